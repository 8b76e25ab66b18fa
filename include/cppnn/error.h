#pragma once
// The one error type of cppnn. Its kinds mirror WebNN's exceptions; Python maps
// TypeError -> TypeError, DataError -> ValueError, the others -> RuntimeError.
#include <stdexcept>
#include <string>

namespace cppnn {

enum class ErrorKind {
  TypeError,          // an argument has the wrong type, rank, shape or data type
  DataError,          // a value is malformed: bad buffer size, corrupt file, wrong input data
  NotSupportedError,  // valid WebNN, but this build or backend cannot do it
  OperationError,     // the operation failed while running
  InvalidStateError,  // the object is used after it was destroyed or in the wrong state
};

const char* to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] void fail(ErrorKind kind, const std::string& message);

}  // namespace cppnn
