// Isolation check throughput: (subject, image) pairs decided per second,
// on the MCS test policy and on Debian's reference policy (when installed).
// Run: build/bench/policy/policy_bench
#include <benchmark/benchmark.h>

#include <filesystem>

#include "policy/isolation.h"

namespace seclabel {
namespace {

constexpr const char* kDebianPolicy = "/etc/selinux/default/policy/policy.33";

void isolationPairs(benchmark::State& state, const char* policyPath) {
  if (!std::filesystem::exists(policyPath)) {
    state.SkipWithError("policy not installed");
    return;
  }
  const auto policy = PolicyDb::load(policyPath);
  const auto guests = makeSyntheticGuests(static_cast<std::size_t>(state.range(0)), SelinuxConfig{});
  IsolationOptions options;
  options.shareableImageContext = "system_u:object_r:svirt_image_t:s0";
  std::size_t pairs = 0;
  for (auto _ : state) {
    auto report = checkIsolation(policy, guests, options);
    if (!report.isolated()) {
      state.SkipWithError("isolation does not hold");
      return;
    }
    pairs += report.pairsChecked;
  }
  state.counters["pairs/s"] = benchmark::Counter(static_cast<double>(pairs), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(isolationPairs, test_policy, SECLABEL_TEST_POLICY)
    ->Arg(100)->Arg(500)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(isolationPairs, debian_refpolicy, kDebianPolicy)
    ->Arg(100)->Arg(500)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace seclabel
