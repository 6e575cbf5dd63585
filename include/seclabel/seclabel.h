// libseclabel's public C++ API: everything `seclabel prepare`, `exec`, `run`
// and `restore` do, for a launcher that needs no command line.
//
//   #include <seclabel/seclabel.h>
//
//   seclabel::Session session = seclabel::openSession({}, seclabel::SessionKind::Mutating);
//   seclabel::Domain domain = seclabel::parseDomainFile("guest.xml");
//   seclabel::GuestLaunch launch =
//       seclabel::prepareLaunch(*session.manager, std::move(domain), {"qemu-system-x86_64", ...}, {});
//   pid_t pid = seclabel::spawnGuest(*session.manager, launch);  // runs under its own identity
//   ... waitpid(pid, ...) ...
//   session.manager->restore(launch.record.uuid);                // originals back, ids released
//
// Every failure is a seclabel::Error (core/error.h) carrying the exit code the
// command line would use, the object and the reason.
#pragma once

#include "core/config.h"          // IWYU pragma: export
#include "core/error.h"           // IWYU pragma: export
#include "launcher/launch_checks.h"  // IWYU pragma: export
#include "launcher/launcher.h"    // IWYU pragma: export
#include "launcher/session.h"     // IWYU pragma: export
#include "launcher/version.h"     // IWYU pragma: export
#include "secdriver/manager.h"    // IWYU pragma: export
#include "process/process.h"    // IWYU pragma: export
#include "xml/xml.h"              // IWYU pragma: export
