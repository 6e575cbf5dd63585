// The security models seclabel knows, named once (as libvirt's
// security_drivers[] table): the config's security_driver list, the XML's
// <seclabel model=...>, the driver stack and the audit records all use
// these names, so a new model is added here and nowhere else by spelling.
#pragma once

#include <array>
#include <string_view>

namespace seclabel {

// const char*: they convert to std::string and compare with either kind.
inline constexpr const char* kSelinuxModel = "selinux";
inline constexpr const char* kDacModel = "dac";
inline constexpr const char* kNoneModel = "none";

// Every model a config may name, in the order libvirt tries them.
inline constexpr std::array<std::string_view, 3> kSecurityModels = {kSelinuxModel, kDacModel,
                                                                     kNoneModel};

inline constexpr bool isKnownSecurityModel(std::string_view model) {
  for (std::string_view known : kSecurityModels)
    if (model == known) return true;
  return false;
}

// The domain type audit records carry when the guest's own is unknown (a
// guest already gone from the store): libvirt's QEMU driver's "kvm".
inline constexpr const char* kFallbackDomainType = "kvm";

}  // namespace seclabel
