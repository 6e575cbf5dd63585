// The DAC driver: a unique uid:gid per guest, from the admin's range or the
// one the XML names; private images are chowned to it.
#pragma once

#include "secdriver/driver.h"

namespace seclabel {

class DacDriver final : public SecurityDriver {
 public:
  explicit DacDriver(DacConfig config) : config_(std::move(config)) {}
  const char* model() const override { return "dac"; }
  void generateLabel(Seclabel& seclabel, Store& store, const Owner& owner) override;
  std::optional<ResourceChange> resourceChange(
      const Seclabel& seclabel, ResourceRole role,
      const std::optional<std::string>& deviceLabel) const override;
  void processLabels(const Seclabel& seclabel, ProcessLabels& out) const override;

 private:
  DacConfig config_;
};

}  // namespace seclabel
