#include "secdriver/dac_driver.h"

#include "alloc/allocation_space.h"
#include "core/error.h"

namespace seclabel {
namespace {

// The DAC identity whose group is `gid` (allocation_space.cc,
// dacLabelForIdentity, the other way round).
uint64_t identityOfGroup(const DacConfig& config, gid_t gid) {
  if (config.gidRange && gid >= config.gidRange->first && gid <= config.gidRange->last)
    return config.range.first + (gid - config.gidRange->first);
  return gid;
}

}  // namespace

void DacDriver::generateLabel(Seclabel& seclabel, Store& store, const Owner& owner) {
  switch (seclabel.type) {
    case SeclabelType::None:
      return;
    case SeclabelType::Dynamic: {
      uint64_t uid = store.allocate(AllocationSpace::dac(config_), owner);
      seclabel.label = dacLabelForIdentity(config_, uid).format();
      seclabel.imagelabel = seclabel.label;
      return;
    }
    case SeclabelType::Static: {
      // A static label is taken as given, and reserved so that no dynamic
      // guest is handed the same uid.
      DacLabel label = DacLabel::parse(*seclabel.label);
      store.reserve(IdentityKind::Dac, label.uid, owner);
      // The gid is as unique as the uid: a guest in another guest's group
      // reads that guest's 0660 image. A DAC identity N stands for uid N
      // and its group (gid N, or N's place in [dac] gid_range), so the gid
      // is reserved as the identity whose group it is.
      const uint64_t groupIdentity = identityOfGroup(config_, label.gid);
      if (groupIdentity != label.uid) {
        try {
          store.reserve(IdentityKind::Dac, groupIdentity, owner);
        } catch (const Error& e) {
          throw Error(e.code(), "gid " + std::to_string(label.gid) + " of static label " +
                                        label.format() + " is another guest's: " + e.what());
        }
      }
      seclabel.label = label.format();
      if (!seclabel.imagelabel) seclabel.imagelabel = seclabel.label;
      return;
    }
  }
}

std::optional<ResourceChange> DacDriver::resourceChange(
    const Seclabel& seclabel, ResourceRole role,
    const std::optional<std::string>& deviceLabel) const {
  if (seclabel.type == SeclabelType::None || !seclabel.relabel) return std::nullopt;
  // Read-only and shareable images stay as they are: readable through their
  // own mode or through fd passing (docs/labels.md, "Labels").
  if (role != ResourceRole::PrivateImage && role != ResourceRole::CharDevice)
    return std::nullopt;
  const std::string& text = deviceLabel ? *deviceLabel : *seclabel.imagelabel;
  return ResourceChange{DacLabel::parse(text), std::nullopt};
}

void DacDriver::processLabels(const Seclabel& seclabel, ProcessLabels& out) const {
  if (seclabel.type == SeclabelType::None || !seclabel.label) return;
  out.dac = DacLabel::parse(*seclabel.label);
}

}  // namespace seclabel
