/* cgroup_device_probe: what a process may open, as the guest would try it.
 * Run inside a guest's cgroup by the tests; prints one line per argument:
 *
 *   r:PATH | w:PATH | rw:PATH   open(2) with O_RDONLY / O_WRONLY / O_RDWR,
 *                               then read (r) and write (w) through the fd;
 *                               prints "MODE:PATH ok", "MODE:PATH EPERM",
 *                               or "MODE:PATH errno=N" (open), "io-errno=N"
 *   pty                         a new pty: /dev/ptmx, then its /dev/pts/N
 *                               slave (the pty major rule); "pty ok|..."
 *   cgroup                      "cgroup " and /proc/self/cgroup, lines
 *                               joined by ';'
 *   ids                         "ids uid=R/E/S gid=R/E/S" (who opened)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void report(const char *what, int err) {
  if (err == 0) printf("%s ok\n", what);
  else if (err == EPERM) printf("%s EPERM\n", what);
  else printf("%s errno=%d\n", what, err);
}

static void probeOpen(const char *arg) {
  const char *colon = strchr(arg, ':');
  if (!colon) { printf("%s bad-argument\n", arg); return; }
  size_t modeLength = (size_t)(colon - arg);
  const char *path = colon + 1;
  int wantRead = memchr(arg, 'r', modeLength) != NULL;
  int wantWrite = memchr(arg, 'w', modeLength) != NULL;
  int flags = wantRead && wantWrite ? O_RDWR : wantWrite ? O_WRONLY : O_RDONLY;
  int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) { report(arg, errno); return; }
  struct stat st;
  fstat(fd, &st);
  char buffer[512];
  memset(buffer, 's', sizeof buffer);
  /* A block device: read and write one sector away from the start, so the
   * test's marker at offset 0 stays. A character device: one byte. */
  int block = S_ISBLK(st.st_mode);
  size_t size = block ? sizeof buffer : 1;
  if (wantWrite && (block ? pwrite(fd, buffer, size, 4096) : write(fd, buffer, size)) < 0) {
    printf("%s io-errno=%d\n", arg, errno);
  } else if (wantRead && (block ? pread(fd, buffer, size, 0) : read(fd, buffer, size)) < 0) {
    printf("%s io-errno=%d\n", arg, errno);
  } else {
    report(arg, 0);
  }
  close(fd);
}

static void probePty(void) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) { report("pty-master", errno); return; }
  if (grantpt(master) != 0 || unlockpt(master) != 0) { report("pty-unlock", errno); return; }
  const char *name = ptsname(master);
  int slave = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
  report("pty", slave < 0 ? errno : 0);
  if (slave >= 0) close(slave);
  close(master);
}

static void probeCgroup(void) {
  char text[4096];
  FILE *in = fopen("/proc/self/cgroup", "r");
  printf("cgroup ");
  if (in) {
    while (fgets(text, sizeof text, in)) {
      text[strcspn(text, "\n")] = ';';
      fputs(text, stdout);
    }
    fclose(in);
  }
  printf("\n");
}

static void probeIds(void) {
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  getresuid(&ruid, &euid, &suid);
  getresgid(&rgid, &egid, &sgid);
  printf("ids uid=%u/%u/%u gid=%u/%u/%u\n", (unsigned)ruid, (unsigned)euid, (unsigned)suid,
         (unsigned)rgid, (unsigned)egid, (unsigned)sgid);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "pty") == 0) probePty();
    else if (strcmp(argv[i], "cgroup") == 0) probeCgroup();
    else if (strcmp(argv[i], "ids") == 0) probeIds();
    else probeOpen(argv[i]);
  }
  return 0;
}
