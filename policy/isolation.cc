#include "policy/isolation.h"

#include <random>

#include "core/error.h"
#include "xml/labels.h"

namespace seclabel {

namespace {

struct ResolvedGuest {
  const GuestLabels* labels;
  PolicySid process;
  PolicySid image;
};

struct FilePermissions {
  PolicyClass cls;
  AccessVector read;
  AccessVector write;
  AccessVector open;
  AccessVector all() const { return read | write | open; }
};

FilePermissions filePermissions(const PolicyDb& policy) {
  auto cls = policy.classNamed("file");
  if (!cls) throw Error::invalidInput(policy.path() + " has no file class");
  auto permission = [&](const char* name) {
    auto bit = policy.permissionNamed(*cls, name);
    if (!bit) {
      throw Error::invalidInput(policy.path() + " has no file permission " + std::string(name));
    }
    return *bit;
  };
  return {*cls, permission("read"), permission("write"), permission("open")};
}

}  // namespace

const char* findingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::CrossGuestAccess: return "leak";
    case FindingKind::OwnImageDenied: return "own image denied";
    case FindingKind::SharedImageDenied: return "shareable image denied";
    case FindingKind::InvalidContext: return "invalid context";
  }
  return "?";
}

IsolationReport checkIsolation(const PolicyDb& policy, const std::vector<GuestLabels>& guests,
                               const IsolationOptions& options) {
  const FilePermissions file = filePermissions(policy);
  IsolationReport report;
  report.guests = guests.size();

  std::vector<ResolvedGuest> resolved;
  resolved.reserve(guests.size());
  for (const auto& guest : guests) {
    std::string why;
    auto process = policy.sidOf(guest.processContext, &why);
    if (!process) {
      report.findings.push_back({FindingKind::InvalidContext, guest.name, "process",
                                 guest.processContext, "", why});
      continue;
    }
    auto image = policy.sidOf(guest.imageContext, &why);
    if (!image) {
      report.findings.push_back({FindingKind::InvalidContext, guest.name, "image",
                                 guest.imageContext, "", why});
      continue;
    }
    resolved.push_back({&guest, *process, *image});
  }

  // One decision for read|write|open at once: the fast path is one
  // libsepol call per pair; names are only computed for a finding.
  auto decide = [&](const ResolvedGuest& subject, PolicySid image) {
    ++report.pairsChecked;
    return policy.decide(subject.process, image, file.cls, file.all()).allowed;
  };

  std::optional<PolicySid> shareable;
  if (options.shareableImageContext) {
    std::string why;
    shareable = policy.sidOf(*options.shareableImageContext, &why);
    if (!shareable) {
      report.findings.push_back({FindingKind::InvalidContext, "shareable image", "image",
                                 *options.shareableImageContext, "", why});
    }
  }

  auto crossPair = [&](const ResolvedGuest& subject, const ResolvedGuest& object) {
    ++report.crossPairsChecked;
    AccessVector allowed = decide(subject, object.image);
    if (allowed != 0) {
      report.findings.push_back({FindingKind::CrossGuestAccess, subject.labels->name,
                                 object.labels->name, subject.labels->processContext,
                                 object.labels->imageContext,
                                 policy.permissionNames(file.cls, allowed)});
    }
  };

  for (const auto& subject : resolved) {
    AccessVector own = decide(subject, subject.image);
    if (own != file.all()) {
      report.findings.push_back({FindingKind::OwnImageDenied, subject.labels->name,
                                 subject.labels->name, subject.labels->processContext,
                                 subject.labels->imageContext,
                                 policy.permissionNames(file.cls, file.all() & ~own)});
    }
    if (shareable) {
      AccessVector shared = decide(subject, *shareable);
      if (shared != file.all()) {
        report.findings.push_back({FindingKind::SharedImageDenied, subject.labels->name,
                                   "shareable image", subject.labels->processContext,
                                   *options.shareableImageContext,
                                   policy.permissionNames(file.cls, file.all() & ~shared)});
      }
    }
  }

  const std::size_t n = resolved.size();
  if (n <= options.allPairsGuestLimit) {
    for (std::size_t s = 0; s < n; ++s) {
      for (std::size_t o = 0; o < n; ++o) {
        if (s != o) crossPair(resolved[s], resolved[o]);
      }
    }
  } else {
    report.sampled = true;
    std::mt19937_64 random(options.sampleSeed);
    std::uniform_int_distribution<std::size_t> pick(0, n - 1);
    for (std::size_t i = 0; i < options.sampledCrossPairs; ++i) {
      std::size_t s = pick(random);
      std::size_t o = pick(random);
      // Redraw the object instead of skipping: every sample is a cross pair.
      while (o == s) o = pick(random);
      crossPair(resolved[s], resolved[o]);
    }
  }
  return report;
}

IsolationReport checkIsolation(const std::string& policyPath,
                               const std::vector<GuestLabels>& guests,
                               const IsolationOptions& options) {
  return checkIsolation(PolicyDb::load(policyPath), guests, options);
}

IsolationOptions isolationOptionsFor(const SelinuxConfig& selinux) {
  IsolationOptions options;
  options.shareableImageContext = SelinuxContext::parse(selinux.image).atSystemLow().format();
  return options;
}

std::vector<GuestLabels> makeSyntheticGuests(std::size_t count, const SelinuxConfig& selinux) {
  const CategoryRange& range = selinux.categories;
  if (count > range.pairCount()) {
    throw Error::conflict("no " + std::to_string(count) + " distinct category pairs in " +
                          range.format() + " (it holds " + std::to_string(range.pairCount()) +
                          ")");
  }
  const auto domain = SelinuxContext::parse(selinux.domain);
  const auto image = SelinuxContext::parse(selinux.image);
  std::vector<GuestLabels> guests;
  guests.reserve(count);
  // Column by column of the pair triangle: (low,low+1), (low,low+2),
  // (low+1,low+2), ... so the first guests share categories with each
  // other in every combination a real allocator could produce.
  for (uint32_t second = range.low + 1; second <= range.high && guests.size() < count; ++second) {
    for (uint32_t first = range.low; first < second && guests.size() < count; ++first) {
      McsPair pair(first, second);
      guests.push_back({"synthetic-" + std::to_string(guests.size() + 1),
                        domain.withCategories(pair).format(),
                        image.withCategories(pair).format()});
    }
  }
  return guests;
}

}  // namespace seclabel
