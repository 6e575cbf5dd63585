/* vm_helper: the in-VM steps of the enforcing-kernel test that busybox
 * cannot do and seclabel does not (yet) cover. Static, no libselinux: the
 * kernel interfaces are plain files and xattrs.
 *
 *   vm_helper load POLICY            one write(2) of the whole file to
 *                                    /sys/fs/selinux/load (the kernel wants
 *                                    the policy in a single write)
 *   vm_helper label PATH CONTEXT     setxattr security.selinux
 *   vm_helper context PATH           prints the file's security.selinux
 *   vm_helper runas CONTEXT UID -- PROG ARG...
 *                                    the stand-in for `seclabel exec`: exec
 *                                    context via /proc/thread-self/attr/exec,
 *                                    no groups, uid/gid UID, then execv
 *   vm_helper read NAME PATH         open O_RDONLY and read; prints
 *                                    `SECLABEL-VM: NAME ok|EACCES|<errno> ctx=CONTEXT`
 *   vm_helper readall PREFIX GOFILE WHAT=PATH...
 *                                    the guest's side of a pass: waits (up to
 *                                    30 s) until GOFILE exists, so both guests
 *                                    are running and labeled at the same time,
 *                                    then `read "PREFIX-WHAT" PATH` for each
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static int fail(const char *what, const char *object) {
  fprintf(stderr, "vm_helper: %s %s: %s\n", what, object, strerror(errno));
  return 1;
}

static int loadPolicy(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) return fail("cannot stat", path);
  char *data = malloc(st.st_size);
  if (!data) return fail("cannot allocate for", path);
  ssize_t got = 0;
  while (got < st.st_size) {
    ssize_t n = read(fd, data + got, st.st_size - got);
    if (n <= 0) return fail("cannot read", path);
    got += n;
  }
  close(fd);
  int load = open("/sys/fs/selinux/load", O_WRONLY | O_CLOEXEC);
  if (load < 0) return fail("cannot open", "/sys/fs/selinux/load");
  if (write(load, data, st.st_size) != st.st_size)
    return fail("cannot load policy", path);
  close(load);
  free(data);
  return 0;
}

static int writeAttr(const char *file, const char *value) {
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open", file);
  if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
    return fail("cannot set context through", file);
  close(fd);
  return 0;
}

static void currentContext(char *buf, size_t size) {
  buf[0] = '\0';
  int fd = open("/proc/self/attr/current", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(buf, size, "?");
    return;
  }
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0) n = 0;
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
}

static int readAndReport(const char *name, const char *path) {
  char context[256];
  currentContext(context, sizeof context);
  const char *result = "ok";
  char errname[32];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  char byte;
  if (fd < 0 || read(fd, &byte, 1) < 0) {
    if (errno == EACCES) {
      result = "EACCES";
    } else {
      snprintf(errname, sizeof errname, "errno%d", errno);
      result = errname;
    }
  }
  if (fd >= 0) close(fd);
  printf("SECLABEL-VM: %s %s uid=%u ctx=%s\n", name, result, (unsigned)getuid(), context);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "load") == 0) return loadPolicy(argv[2]);
  if (argc == 4 && strcmp(argv[1], "label") == 0) {
    if (setxattr(argv[2], "security.selinux", argv[3], strlen(argv[3]) + 1, 0) != 0)
      return fail("cannot label", argv[2]);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "context") == 0) {
    char context[256];
    ssize_t n = getxattr(argv[2], "security.selinux", context, sizeof context - 1);
    if (n < 0) return fail("cannot read the label of", argv[2]);
    context[n] = '\0';
    printf("%s\n", context);
    return 0;
  }
  if (argc >= 6 && strcmp(argv[1], "runas") == 0 && strcmp(argv[4], "--") == 0) {
    if (writeAttr("/proc/thread-self/attr/exec", argv[2]) != 0) return 1;
    uid_t id = (uid_t)strtoul(argv[3], NULL, 10);
    if (setgroups(0, NULL) != 0) return fail("cannot clear groups of", argv[3]);
    if (setresgid(id, id, id) != 0) return fail("cannot setresgid to", argv[3]);
    if (setresuid(id, id, id) != 0) return fail("cannot setresuid to", argv[3]);
    execv(argv[5], argv + 5);
    return fail("cannot exec", argv[5]);
  }
  if (argc == 4 && strcmp(argv[1], "read") == 0) return readAndReport(argv[2], argv[3]);
  if (argc >= 5 && strcmp(argv[1], "readall") == 0) {
    struct stat st;
    int waited = 0;
    while (stat(argv[3], &st) != 0) {
      if (++waited > 3000) {
        printf("SECLABEL-VM: %s gave-up-waiting\n", argv[2]);
        return 1;
      }
      usleep(10000);
    }
    for (int i = 4; i < argc; ++i) {
      char *equals = strchr(argv[i], '=');
      if (!equals) continue;
      char name[256];
      snprintf(name, sizeof name, "%s-%.*s", argv[2], (int)(equals - argv[i]), argv[i]);
      readAndReport(name, equals + 1);
    }
    return 0;
  }
  fprintf(stderr, "usage: vm_helper load|label|runas|read ...\n");
  return 2;
}
