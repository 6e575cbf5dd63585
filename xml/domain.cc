#include "xml/domain.h"

#include <utility>

#include "xml/document.h"

namespace seclabel {

const char* toString(SeclabelType type) {
  switch (type) {
    case SeclabelType::Dynamic: return "dynamic";
    case SeclabelType::Static: return "static";
    case SeclabelType::None: return "none";
  }
  return "dynamic";
}

const DeviceSeclabel* findDeviceSeclabel(const std::vector<DeviceSeclabel>& seclabels,
                                         const std::string& model) {
  const DeviceSeclabel* anyModel = nullptr;
  for (const auto& seclabel : seclabels) {
    if (seclabel.model == model) return &seclabel;
    if (seclabel.model.empty() && !anyModel) anyModel = &seclabel;
  }
  return anyModel;
}

const DeviceSeclabel* DiskSource::seclabelFor(const std::string& model) const {
  return findDeviceSeclabel(seclabels, model);
}

const DeviceSeclabel* PathResource::seclabelFor(const std::string& model) const {
  return findDeviceSeclabel(seclabels, model);
}

Domain::Domain() = default;
Domain::~Domain() = default;
Domain::Domain(Domain&&) noexcept = default;
Domain& Domain::operator=(Domain&&) noexcept = default;

Domain::Domain(const Domain& other)
    : type(other.type),
      name(other.name),
      uuid(other.uuid),
      uuidGenerated(other.uuidGenerated),
      seclabels(other.seclabels),
      disks(other.disks),
      kernel(other.kernel),
      initrd(other.initrd),
      chardevs(other.chardevs),
      interfaces(other.interfaces) {
  if (other.document) {
    document = std::make_unique<Document>();
    document->tree.reset(other.document->tree);  // deep copy
  }
}

Domain& Domain::operator=(const Domain& other) {
  if (this != &other) {
    Domain copy(other);
    *this = std::move(copy);
  }
  return *this;
}

const Seclabel* Domain::seclabelFor(const std::string& model) const {
  for (const auto& seclabel : seclabels) {
    if (seclabel.model == model) return &seclabel;
  }
  return nullptr;
}

Seclabel* Domain::seclabelFor(const std::string& model) {
  return const_cast<Seclabel*>(std::as_const(*this).seclabelFor(model));
}

const Interface* Domain::interfaceByAlias(std::string_view alias) const {
  for (const auto& interface : interfaces) {
    if (interface.alias && *interface.alias == alias) return &interface;
  }
  return nullptr;
}

const Disk* Domain::diskByTarget(const std::string& target) const {
  for (const auto& disk : disks) {
    if (disk.target == target) return &disk;
  }
  return nullptr;
}

}  // namespace seclabel
