// Guest isolation under a policy: every guest's process context may read,
// write and open its own image and none of that on any other guest's image;
// shareable images (the image type at s0) stay reachable by every guest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "policy/policy_db.h"

namespace seclabel {

struct GuestLabels {
  std::string name;
  std::string processContext;  // e.g. system_u:system_r:svirt_t:s0:c1,c2
  std::string imageContext;    // e.g. system_u:object_r:svirt_image_t:s0:c1,c2
};

enum class FindingKind {
  CrossGuestAccess,    // a guest may access another guest's image (a leak)
  OwnImageDenied,      // a guest may not use its own image
  SharedImageDenied,   // a guest may not use a shareable image
  InvalidContext,      // the policy rejects a guest's context
};

struct IsolationFinding {
  FindingKind kind;
  std::string subject;      // guest name
  std::string object;       // guest name whose image, or "shareable image"
  std::string subjectContext;
  std::string objectContext;
  std::string permissions;  // leaked or missing permissions, comma-separated
};

struct IsolationOptions {
  // Shareable image context (the image type at s0); unset: not checked.
  std::optional<std::string> shareableImageContext;
  // Up to this many guests every (subject, image) pair is checked. Beyond
  // it every guest's own image and the shareable image are still checked,
  // and `sampledCrossPairs` cross-guest pairs drawn at random (uniformly,
  // with a fixed seed so a run is reproducible).
  std::size_t allPairsGuestLimit = 2000;
  std::size_t sampledCrossPairs = 1'000'000;
  uint64_t sampleSeed = 0x5ec1abe1;
};

struct IsolationReport {
  std::size_t guests = 0;
  std::size_t pairsChecked = 0;   // (subject, image) pairs decided
  std::size_t crossPairsChecked = 0;
  bool sampled = false;           // cross pairs were sampled, not exhaustive
  std::vector<IsolationFinding> findings;
  bool isolated() const { return findings.empty(); }
};

// Checks the file class permissions read, write and open. Throws
// Error(InvalidInput) when the policy has no file class (not a Linux policy).
IsolationReport checkIsolation(const PolicyDb& policy, const std::vector<GuestLabels>& guests,
                               const IsolationOptions& options = {});
IsolationReport checkIsolation(const std::string& policyPath,
                               const std::vector<GuestLabels>& guests,
                               const IsolationOptions& options = {});

// The options `seclabel policy isolation` checks with: the shareable image
// context is the configured image type at s0, the rest the defaults.
IsolationOptions isolationOptionsFor(const SelinuxConfig& selinux);

// `count` guests named synthetic-1.. with distinct category pairs from
// `categories`, in a fixed order (c0,c1 c0,c2 c1,c2 c0,c3 ... for c0.c1023),
// on the domain and image contexts of `selinux` (their levels replaced).
// Throws Error(NoIdentity) when the range holds fewer pairs than `count`.
std::vector<GuestLabels> makeSyntheticGuests(std::size_t count, const SelinuxConfig& selinux);

const char* findingKindName(FindingKind kind);

}  // namespace seclabel
