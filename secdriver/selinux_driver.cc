#include "secdriver/selinux_driver.h"

#include "alloc/allocation_space.h"
#include "alloc/mcs_encoding.h"
#include "core/error.h"

namespace seclabel {

SelinuxDriver::SelinuxDriver(const SelinuxConfig& config, const SelinuxHost& host)
    : categories_(config.categories), host_(host) {
  SelinuxPolicyContexts contexts{config.domain, config.image, config.content};
  if (!config.contextsFromConfig) {
    if (auto fromPolicy = host.policyContexts()) contexts = *fromPolicy;
  }
  domain_ = SelinuxContext::parse(contexts.domain);
  image_ = SelinuxContext::parse(contexts.image);
  content_ = SelinuxContext::parse(contexts.content);
}

void SelinuxDriver::generateLabel(Seclabel& seclabel, Store& store, const Owner& owner) {
  switch (seclabel.type) {
    case SeclabelType::None:
      return;
    case SeclabelType::Dynamic: {
      McsPair pair = decodeMcsPair(store.allocate(AllocationSpace::mcs(categories_), owner));
      // <baselabel> gives the user:role:type to use instead of the
      // configured domain; the categories are still ours.
      SelinuxContext base = seclabel.baselabel ? SelinuxContext::parse(*seclabel.baselabel) : domain_;
      seclabel.label = base.withCategories(pair).format();
      seclabel.imagelabel = image_.withCategories(pair).format();
      return;
    }
    case SeclabelType::Static: {
      SelinuxContext label = SelinuxContext::parse(*seclabel.label);
      // Reserve the pair so that no dynamic guest gets it too.
      if (auto pair = label.mcsPair())
        store.reserve(IdentityKind::Mcs, encodeMcsPair(*pair), owner);
      if (!seclabel.imagelabel) {
        // As libvirt: the image type with the static label's level.
        SelinuxContext image = image_;
        image.level = label.level;
        seclabel.imagelabel = image.format();
      }
      return;
    }
  }
}

std::optional<ResourceChange> SelinuxDriver::resourceChange(
    const Seclabel& seclabel, ResourceRole role,
    const std::optional<std::string>& deviceLabel) const {
  if (seclabel.type == SeclabelType::None || !seclabel.relabel) return std::nullopt;
  ResourceChange change;
  switch (role) {
    case ResourceRole::PrivateImage:
    case ResourceRole::CharDevice:
      change.selinuxLabel = deviceLabel ? *deviceLabel : *seclabel.imagelabel;
      break;
    case ResourceRole::SharedImage:
      // Several guests write it: the image type with no categories.
      change.selinuxLabel = deviceLabel ? *deviceLabel : image_.atSystemLow().format();
      break;
    case ResourceRole::ReadOnlyImage:
    case ResourceRole::BootFile:
      change.selinuxLabel = deviceLabel ? *deviceLabel : content_.atSystemLow().format();
      break;
  }
  return change;
}

void SelinuxDriver::processLabels(const Seclabel& seclabel, ProcessLabels& out) const {
  if (seclabel.type == SeclabelType::None || !seclabel.label) return;
  out.execContext = *seclabel.label;
}

std::string SelinuxDriver::enforcement() const { return toString(host_.mode()); }

}  // namespace seclabel
