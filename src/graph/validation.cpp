#include "graph/validation.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace cppnn::detail {

void type_error(const std::string& message) { fail(ErrorKind::TypeError, message); }

std::string operand_name(const std::string& name) { return "operand '" + name + "'"; }

void check_data_type(const OperandDescriptor& desc, const std::string& what,
                     std::span<const DataType> allowed) {
  if (std::find(allowed.begin(), allowed.end(), desc.data_type) != allowed.end()) return;
  // bfloat16 (internal: lowered graphs and engines only) goes wherever float16 goes.
  if (desc.data_type == DataType::bfloat16 &&
      std::find(allowed.begin(), allowed.end(), DataType::float16) != allowed.end())
    return;
  std::string list;
  for (DataType t : allowed) list += (list.empty() ? "" : ", ") + std::string(to_string(t));
  type_error(operand_name(what) + " has data type " + std::string(to_string(desc.data_type)) +
             "; allowed: " + list);
}

void check_same_type(const OperandDescriptor& a, const std::string& a_name,
                     const OperandDescriptor& b, const std::string& b_name) {
  if (a.data_type != b.data_type)
    type_error(operand_name(b_name) + " has data type " + std::string(to_string(b.data_type)) +
               " but " + operand_name(a_name) + " has " + std::string(to_string(a.data_type)) +
               "; they must match");
}

void check_rank(const OperandDescriptor& desc, const std::string& what, size_t rank) {
  if (desc.shape.size() != rank)
    type_error(operand_name(what) + " must be " + std::to_string(rank) + "-D, got shape " +
               to_string(desc.shape));
}

void check_rank_range(const OperandDescriptor& desc, const std::string& what, size_t lo,
                      size_t hi) {
  if (desc.shape.size() < lo || desc.shape.size() > hi)
    type_error(operand_name(what) + " must have rank " + std::to_string(lo) + " to " +
               std::to_string(hi) + ", got shape " + to_string(desc.shape));
}

Dims broadcast_shapes(const Dims& a, const Dims& b) {
  size_t rank = std::max(a.size(), b.size());
  Dims out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      type_error("shapes " + to_string(a) + " and " + to_string(b) +
                 " are not broadcastable (dimension " + std::to_string(i) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

bool unidirectionally_broadcastable(const Dims& from, const Dims& to) {
  if (from.size() > to.size()) return false;
  size_t off = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != to[off + i] && from[i] != 1) return false;
  return true;
}

void check_axes(const std::vector<int64_t>& axes, size_t rank, const std::string& what) {
  std::vector<bool> seen(rank, false);
  for (int64_t axis : axes) {
    if (axis < 0 || size_t(axis) >= rank)
      type_error(what + ": axis " + std::to_string(axis) + " is out of range for rank " +
                 std::to_string(rank));
    if (seen[size_t(axis)]) type_error(what + ": axis " + std::to_string(axis) + " repeats");
    seen[size_t(axis)] = true;
  }
}

void check_unsigned_long(const std::vector<int64_t>& values, const std::string& what) {
  for (int64_t v : values)
    if (v > int64_t(std::numeric_limits<uint32_t>::max()))
      type_error(what + " must hold unsigned 32-bit integers, got " + to_string(values));
}

Dims checked_dims(const std::vector<int64_t>& values, const std::string& what) {
  for (int64_t v : values)
    if (v <= 0) type_error(what + " must be positive, got " + to_string(values));
  return values;
}

int64_t unsigned_attr(const Attrs& attrs, const std::string& name) {
  int64_t v = attrs.i(name);
  if (v < 0) type_error(name + " must not be negative, got " + std::to_string(v));
  return v;
}

void check_fused_activation(Attrs& attrs) {
  if (!attrs.has("activation")) return;
  const std::string act = attrs.s("activation");
  if (act.empty()) return;
  std::optional<OpId> id = find_op(act);
  if (!id || !op_has(*id, OpTrait::EpilogueActivation))
    type_error("attribute 'activation' has unknown value '" + act + "'");
  if (*id == OpId::clamp) {
    double lo = attrs.f_or("activationMin", -INFINITY), hi = attrs.f_or("activationMax", INFINITY);
    if (std::isnan(lo) || std::isnan(hi) || lo > hi)
      type_error("attribute 'activationMin' (" + std::to_string(lo) +
                 ") must not be greater than 'activationMax' (" + std::to_string(hi) + ")");
    attrs.set("activationMin", lo);
    attrs.set("activationMax", hi);
  } else if (*id == OpId::leakyRelu || *id == OpId::elu) {
    attrs.set("activationAlpha", attrs.f_or("activationAlpha", *id == OpId::elu ? 1.0 : 0.01));
  }
}

}  // namespace cppnn::detail
