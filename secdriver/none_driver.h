// The `none` driver: no label, no relabeling, no process change.
#pragma once

#include "secdriver/driver.h"

namespace seclabel {

class NoneDriver final : public SecurityDriver {
 public:
  const char* model() const override { return "none"; }
  void generateLabel(Seclabel&, Store&, const Owner&) override {}
  std::optional<ResourceChange> resourceChange(const Seclabel&, ResourceRole,
                                               const std::optional<std::string>&) const override {
    return std::nullopt;
  }
  void processLabels(const Seclabel&, ProcessLabels&) const override {}
};

}  // namespace seclabel
