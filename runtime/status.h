// Status: the one error type of the runtime and the tools.  An error carries a sentence a
// person reads: what went wrong, where, and what to do about it.
#pragma once
#include <string>
#include <utility>

namespace autockpt {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }
  bool is_ok() const { return message_.empty(); }
  explicit operator bool() const { return is_ok(); }
  const std::string &message() const { return message_; }

 private:
  explicit Status(std::string m) : message_(m.empty() ? "unknown error" : std::move(m)) {}
  std::string message_;
};

}  // namespace autockpt
