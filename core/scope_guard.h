// Undo on every failing exit of a scope, whatever was thrown.
//
// A rollback written as `catch (const Error&) { undo(); throw; }` is skipped
// by everything that is not an Error (std::bad_alloc, a JSON or filesystem
// exception): the guest then stays half prepared with nobody to undo it
// until the next recover. UndoOnFailure runs its undo from the destructor
// when the scope is left by an exception of any type, and not when it ends
// normally or after dismiss().
//
// The undo runs during unwinding, so it must not throw: what it throws is
// handed to `onUndoFailure` (a one-line warning, typically) and the original
// exception goes on, as it is the one the caller reports.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <utility>

namespace seclabel {

class UndoOnFailure {
 public:
  explicit UndoOnFailure(std::function<void()> undo,
                         std::function<void(const std::string&)> onUndoFailure = {})
      : undo_(std::move(undo)),
        onUndoFailure_(std::move(onUndoFailure)),
        exceptionsAtStart_(std::uncaught_exceptions()) {}
  ~UndoOnFailure() {
    if (!undo_ || std::uncaught_exceptions() <= exceptionsAtStart_) return;
    try {
      undo_();
    } catch (const std::exception& e) {
      report(e.what());
    } catch (...) {
      report("unknown error");
    }
  }
  UndoOnFailure(const UndoOnFailure&) = delete;
  UndoOnFailure& operator=(const UndoOnFailure&) = delete;

  // The scope succeeded as far as this undo is concerned.
  void dismiss() { undo_ = nullptr; }

 private:
  void report(const std::string& what) noexcept {
    if (!onUndoFailure_) return;
    try {
      onUndoFailure_("could not undo after a failure: " + what);
    } catch (...) {
    }
  }

  std::function<void()> undo_;
  std::function<void(const std::string&)> onUndoFailure_;
  int exceptionsAtStart_;
};

}  // namespace seclabel
