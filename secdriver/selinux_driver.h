// The SELinux driver (sVirt): a unique MCS category pair per guest; the guest
// process runs as domain:s0:cA,cB and its private images are labeled
// image:s0:cA,cB.
#pragma once

#include "secdriver/driver.h"
#include "secdriver/selinux_host.h"

namespace seclabel {

class SelinuxDriver final : public SecurityDriver {
 public:
  // Contexts come from the config; when the config does not set them and the
  // host has a policy installed, from the policy's virtual_*_context files.
  SelinuxDriver(const SelinuxConfig& config, const SelinuxHost& host);
  const char* model() const override { return "selinux"; }
  void generateLabel(Seclabel& seclabel, Store& store, const Owner& owner) override;
  std::optional<ResourceChange> resourceChange(
      const Seclabel& seclabel, ResourceRole role,
      const std::optional<std::string>& deviceLabel) const override;
  void processLabels(const Seclabel& seclabel, ProcessLabels& out) const override;
  std::string enforcement() const override;

  const SelinuxContext& domainContext() const { return domain_; }
  const SelinuxContext& imageContext() const { return image_; }
  const SelinuxContext& contentContext() const { return content_; }

 private:
  CategoryRange categories_;
  SelinuxContext domain_;
  SelinuxContext image_;
  SelinuxContext content_;
  const SelinuxHost& host_;
};

}  // namespace seclabel
