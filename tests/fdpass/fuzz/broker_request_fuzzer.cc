// libFuzzer target: the broker's request parser, which reads bytes from any
// local user. Whatever the input, the parser returns a request or throws
// seclabel::Error; a crash, a sanitizer report, a leak or any other
// exception is a bug. An accepted request must survive a format/parse round
// trip unchanged (what the broker logs is what it understood).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "fdpass/broker_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  seclabel::BrokerRequest request;
  try {
    request = seclabel::parseBrokerRequest(text);
  } catch (const seclabel::Error&) {
    return 0;
  }
  seclabel::BrokerRequest again =
      seclabel::parseBrokerRequest(seclabel::formatBrokerRequest(request));
  if (again.guest != request.guest || again.disk != request.disk ||
      again.access != request.access) {
    std::abort();
  }
  return 0;
}
