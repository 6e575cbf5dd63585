// example-launcher: start a command as a guest under its own identity with
// libseclabel, wait for it, give everything back. What `seclabel run` does,
// without the command line.
//
//   example-launcher CONFIG STATE_DIR DOMAIN.xml CMD [ARGS...]
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

#include <seclabel/seclabel.h>

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s CONFIG STATE_DIR DOMAIN.xml CMD [ARGS...]\n", argv[0]);
    return 2;
  }
  try {
    seclabel::SessionOptions options;
    options.configPath = argv[1];
    options.configMayBeMissing = false;
    options.stateDir = argv[2];
    seclabel::Session session = seclabel::openSession(options, seclabel::SessionKind::Mutating);

    seclabel::Domain domain = seclabel::parseDomainFile(argv[3]);
    std::vector<std::string> command(argv + 4, argv + argc);
    seclabel::GuestLaunch launch =
        seclabel::prepareLaunch(*session.manager, std::move(domain), command, {});
    pid_t pid = seclabel::spawnGuest(*session.manager, launch);
    std::printf("example-launcher: guest %s runs as pid %d\n", launch.record.name.c_str(), pid);
    std::fflush(stdout);

    int status = 0;
    waitpid(pid, &status, 0);
    session.manager->restore(launch.record.uuid);
    std::printf("example-launcher: guest exited with %d, resources restored\n",
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  } catch (const seclabel::Error& e) {
    std::fprintf(stderr, "example-launcher: %s\n", e.what());
    return e.exitCode();
  }
}
