#include "secdriver/guest_resources.h"

namespace seclabel {

const char* toString(ResourceRole role) {
  switch (role) {
    case ResourceRole::PrivateImage: return "disk";
    case ResourceRole::SharedImage: return "shareable disk";
    case ResourceRole::ReadOnlyImage: return "read-only disk";
    case ResourceRole::BootFile: return "boot file";
    case ResourceRole::CharDevice: return "character device";
  }
  return "resource";
}

ResourceUse resourceUseOf(ResourceRole role) {
  return role == ResourceRole::PrivateImage || role == ResourceRole::CharDevice
             ? ResourceUse::Exclusive
             : ResourceUse::Shared;
}

GuestObject guestObjectOf(const GuestResource& resource) {
  return resource.role == ResourceRole::CharDevice ? GuestObject::CharDevice
                                                   : GuestObject::Image;
}

std::vector<GuestResource> guestResources(const Domain& domain) {
  std::vector<GuestResource> resources;
  for (const Disk& disk : domain.disks) {
    if (!disk.source || disk.source->path.empty()) continue;
    ResourceRole role = disk.readonly    ? ResourceRole::ReadOnlyImage
                        : disk.shareable ? ResourceRole::SharedImage
                                         : ResourceRole::PrivateImage;
    resources.push_back({disk.source->path, role, &disk.source->seclabels, disk.target,
                         disk.readonly, false, false});
    // Lower layers of a backing chain are only ever read.
    for (const DiskSource& layer : disk.backingChain) {
      if (layer.path.empty()) continue;
      resources.push_back({layer.path, ResourceRole::ReadOnlyImage, &layer.seclabels,
                           std::nullopt, true, false, false});
    }
  }
  if (domain.kernel)
    resources.push_back({domain.kernel->path, ResourceRole::BootFile, &domain.kernel->seclabels,
                         std::nullopt, true, false, false});
  if (domain.initrd)
    resources.push_back({domain.initrd->path, ResourceRole::BootFile, &domain.initrd->seclabels,
                         std::nullopt, true, false, false});
  for (const PathResource& chardev : domain.chardevs)
    resources.push_back({chardev.path, ResourceRole::CharDevice, &chardev.seclabels,
                         std::nullopt, false, true, chardev.chardevType == "pipe"});
  return resources;
}

}  // namespace seclabel
