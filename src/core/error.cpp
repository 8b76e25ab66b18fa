#include "cppnn/error.h"

#include <string>

#include "core/checked.h"

namespace cppnn {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::TypeError: return "TypeError";
    case ErrorKind::DataError: return "DataError";
    case ErrorKind::NotSupportedError: return "NotSupportedError";
    case ErrorKind::OperationError: return "OperationError";
    case ErrorKind::InvalidStateError: return "InvalidStateError";
  }
  return "Error";
}

void fail(ErrorKind kind, const std::string& message) { throw Error(kind, message); }

namespace detail {

void fail_overflow(ErrorKind kind, std::string_view what, const char* op, int64_t a, int64_t b) {
  fail(kind, std::string(what) + ": " + std::to_string(a) + " " + op + " " + std::to_string(b) +
                 " overflows 64-bit integers");
}

void fail_not_int64(ErrorKind kind, std::string_view what, double x) {
  fail(kind, std::string(what) + ": " + std::to_string(x) +
                 " is not a finite integer in the 64-bit range");
}

}  // namespace detail

}  // namespace cppnn
