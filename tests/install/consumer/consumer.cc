// Uses the public API of the installed libseclabel without root: parses and
// formats a domain, reads labels, checks launch input, and catches the
// library's Error across the library boundary (its type information is
// exported). Prints "consumer: ok" and exits 0 when all of it behaves.
#include <seclabel/seclabel.h>

#include <cstdio>
#include <string>

namespace {

int failures = 0;

void expect(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "consumer: FAIL: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  expect(std::string(seclabel::libraryVersion()).find('.') != std::string::npos,
         "libraryVersion is MAJOR.MINOR.PATCH");

  seclabel::Domain domain = seclabel::parseDomainXml(
      "<domain type='kvm'><name>consumer</name><devices><disk type='file' device='disk'>"
      "<source file='/var/lib/images/a.img'/><target dev='vda' bus='virtio'/></disk>"
      "</devices></domain>");
  expect(domain.name == "consumer", "parseDomainXml reads the name");
  expect(domain.diskByTarget("vda") != nullptr, "Domain::diskByTarget finds vda");
  const std::string xml = seclabel::formatDomainXml(domain, seclabel::XmlForm::Inactive);
  expect(xml.find("<name>consumer</name>") != std::string::npos, "formatDomainXml");

  const auto context = seclabel::SelinuxContext::parse("system_u:system_r:svirt_t:s0:c1,c2");
  expect(context.atSystemLow().format() == "system_u:system_r:svirt_t:s0", "SelinuxContext");
  expect(seclabel::DacLabel::parse("+107:+107").format() == "+107:+107", "DacLabel");

  seclabel::Config config = seclabel::Config::defaults(false);
  expect(!config.securityDrivers.empty(), "Config::defaults names drivers");

  // An Error thrown inside the library is caught here, by type.
  try {
    seclabel::checkCommandRunnable("/nonexistent/seclabel-consumer-command");
    expect(false, "checkCommandRunnable throws for a missing command");
  } catch (const seclabel::Error& error) {
    expect(error.code() == seclabel::ExitCode::CommandNotFound, "a missing command is 127");
  }
  try {
    seclabel::parseDomainXml("<domain>");
    expect(false, "parseDomainXml throws for malformed XML");
  } catch (const seclabel::Error& error) {
    expect(error.exitCode() == 2, "malformed XML is InvalidInput (2)");
  }
  seclabel::checkCommandRunnable("/bin/sh");
  seclabel::checkLaunchInput({});
  (void)seclabel::withheldTerminals(seclabel::TerminalAccess::Grant);
  (void)seclabel::canExecInPlace();

  // The launch functions link (calling them needs root and a state dir:
  // tests/install/example_launcher_test.sh runs examples/launcher).
  volatile auto open = &seclabel::openSession;
  volatile auto prepare = &seclabel::prepareLaunch;
  volatile auto spawn = &seclabel::spawnGuest;
  volatile auto run = &seclabel::runGuest;
  volatile auto exec = &seclabel::execGuest;
  expect(open && prepare && spawn && run && exec, "the launch functions link");

  if (failures) return 1;
  std::puts("consumer: ok");
  return 0;
}
