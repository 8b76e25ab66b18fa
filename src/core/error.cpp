#include "cppnn/error.h"

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

}  // namespace cppnn
