#include "cppnn/error.h"
#include "graph/ir.h"

namespace cppnn::detail {

namespace {
template <typename T>
const T& get(const std::map<std::string, AttrValue>& m, const std::string& name) {
  auto it = m.find(name);
  if (it == m.end())
    fail(ErrorKind::OperationError, "internal: attribute '" + name + "' was not set");
  const T* v = std::get_if<T>(&it->second);
  if (!v) fail(ErrorKind::OperationError, "internal: attribute '" + name + "' has another type");
  return *v;
}
}  // namespace

int64_t Attrs::i(const std::string& name) const { return get<int64_t>(values_, name); }

double Attrs::f(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end())
    if (const int64_t* v = std::get_if<int64_t>(&it->second)) return double(*v);
  return get<double>(values_, name);
}

const std::string& Attrs::s(const std::string& name) const {
  return get<std::string>(values_, name);
}
const std::vector<int64_t>& Attrs::ints(const std::string& name) const {
  return get<std::vector<int64_t>>(values_, name);
}
const std::vector<double>& Attrs::floats(const std::string& name) const {
  return get<std::vector<double>>(values_, name);
}
int64_t Attrs::i_or(const std::string& name, int64_t fallback) const {
  return has(name) ? i(name) : fallback;
}
double Attrs::f_or(const std::string& name, double fallback) const {
  return has(name) ? f(name) : fallback;
}
std::string Attrs::s_or(const std::string& name, const std::string& fallback) const {
  return has(name) ? s(name) : fallback;
}

}  // namespace cppnn::detail
