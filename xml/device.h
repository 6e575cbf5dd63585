// One device element on its own, as `virsh attach-device` takes it: a
// <disk> or an <interface>, validated by the same rules as inside a domain;
// and the live domain XML with such an element added or removed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "xml/domain.h"

namespace seclabel {

enum class DeviceKind { Disk, Interface };

struct DeviceElement {
  DeviceKind kind = DeviceKind::Disk;
  Disk disk;            // kind Disk
  Interface interface;  // kind Interface
  std::string bus;      // a disk's <target bus>, "" when absent
  std::optional<std::string> alias;  // <alias name>
  std::string xml;      // the element alone, as written
};

// Exactly one <disk> or <interface> element (at most 1 MiB). Anything else,
// or a device the domain rules refuse, is Error(InvalidInput) whose message
// says where ("/disk/target: ..." is written "/domain/devices/disk/...").
DeviceElement parseDeviceXml(std::string_view text);
// The file's name in front of the message.
DeviceElement parseDeviceFile(const std::string& path);

// `domainXml` with `deviceXml` appended to <domain><devices> (created when
// absent). The caller re-parses the result (it is not validated here).
std::string domainXmlWithDevice(std::string_view domainXml, std::string_view deviceXml);
// `domainXml` without its <disk> whose <target dev> is `target`.
// InvalidInput when there is none.
std::string domainXmlWithoutDisk(std::string_view domainXml, std::string_view target);
// `domainXml` without its <interface> whose <alias name> is `alias`.
std::string domainXmlWithoutInterface(std::string_view domainXml, std::string_view alias);
// The <disk> element whose <target dev> is `target`, alone (for a detach by
// --target); InvalidInput when there is none.
// An <interface> element with its <mac address>, <alias name> and <target
// dev> set (added when absent), as the live XML records them.
std::string interfaceXmlWith(std::string_view interfaceXml, const std::string& mac,
                             const std::string& alias, const std::string& targetDev);
std::string diskElementOf(std::string_view domainXml, std::string_view target);
std::string interfaceElementOf(std::string_view domainXml, std::string_view alias);

}  // namespace seclabel
