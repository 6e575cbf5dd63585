// The hook through which the device openers report each open attempt, so
// the caller writes an audit record for exactly the attempts made.
#pragma once

#include <functional>

namespace seclabel {

// fd: the opened device (valid only during the call) or -1 when the open
// itself failed; success: whether that queue was fully set up.
using DeviceOpenObserver = std::function<void(int fd, bool success)>;

}  // namespace seclabel
