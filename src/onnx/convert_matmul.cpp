// Converters of ONNX's matrix products: MatMul (whose 1-D operands numpy-style promotion
// reshapes), Gemm, and Einsum in the forms one batched matmul (with transposes, reshapes and
// sums around it) computes.
#include <algorithm>
#include <cctype>

#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

void matmul(NodeContext& ctx) {
  GraphBuilder& b = ctx.builder();
  size_t ra = ctx.rank(0), rb = ctx.rank(1);
  if (ra == 0 || rb == 0) ctx.bad_model("MatMul inputs must have rank >= 1");
  // WebNN's matmul is for rank >= 2; ONNX (like numpy) promotes a 1-D operand and then
  // drops the added dimension.
  Operand a = ra == 1 ? reshape_value(ctx, ctx.input(0), {1, ctx.shape(0)[0]}) : ctx.operand(0);
  Operand bm = rb == 1 ? reshape_value(ctx, ctx.input(1), {ctx.shape(1)[0], 1}) : ctx.operand(1);
  Operand y = b.matmul(a, bm, ctx.options());
  if (ra == 1 || rb == 1) {
    Dims dims = y.shape();
    if (rb == 1) dims.erase(dims.end() - 1);
    if (ra == 1) dims.erase(dims.end() - (rb == 1 ? 1 : 2));
    y = b.reshape(y, to_u32(ctx, dims, "MatMul output dimension"), ctx.options());
  }
  ctx.set_output(0, y);
}

void gemm(NodeContext& ctx) {
  GemmOptions o;
  o.label = ctx.label();
  o.alpha = ctx.attr_float("alpha", 1.0f);
  o.beta = ctx.attr_float("beta", 1.0f);
  o.a_transpose = ctx.attr_int("transA", 0) != 0;
  o.b_transpose = ctx.attr_int("transB", 0) != 0;
  if (ctx.has_input(2)) o.c = ctx.operand(2);
  ctx.set_output(0, ctx.builder().gemm(ctx.operand(0), ctx.operand(1), o));
}

// `x`, whose axes carry `letters`, transposed so that they come in the order of `want` (the
// same letters): no op when they already do.
Operand permute_letters(NodeContext& ctx, const Operand& x, const std::string& letters,
                        const std::string& want) {
  if (letters == want) return x;
  TransposeOptions o;
  o.label = ctx.label();
  std::vector<uint32_t> perm;
  for (char c : want) perm.push_back(uint32_t(letters.find(c)));
  o.permutation = perm;
  return ctx.builder().transpose(x, o);
}

Operand reshape_if_needed(NodeContext& ctx, const Operand& x, const Dims& dims) {
  if (x.shape() == dims) return x;
  return ctx.builder().reshape(x, to_u32(ctx, dims, "Einsum dimension"), ctx.options());
}

// Einsum with one or two operands, each naming each of its axes by a distinct letter: the
// letters only one operand has and the output lacks are summed first (reduceSum); then one
// operand is transposed to the output's order, or two become [batch, M, K] x [batch, K, N]
// for one matmul whose result is reshaped and transposed to the output. This covers
// "bij,bjk->bik", "ij,jk", "bhqd,bhkd->bhqk", "i,i->", "ij->ji", "ij->i", "...ij,...jk"...
// Diagonals (a letter twice in one operand), ellipses that broadcast (size 1 against more)
// and three or more operands are a NotSupportedError naming the equation.
void einsum(NodeContext& ctx) {
  std::string eq;
  for (char c : ctx.attr_string("equation", ""))
    if (c != ' ') eq.push_back(c);
  auto unsupported = [&](const std::string& why) {
    ctx.not_supported("equation '" + eq + "': " + why);
  };
  auto malformed = [&](const std::string& why) { ctx.bad_model("equation '" + eq + "': " + why); };
  if (eq.empty()) ctx.bad_model("attribute 'equation' is required");

  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  // Each operand's subscripts; "..." stays as '.' until the ranks say how many axes it covers.
  std::vector<std::string> terms(1);
  for (size_t p = 0; p < lhs.size(); ++p) {
    char c = lhs[p];
    if (c == ',') {
      terms.emplace_back();
    } else if (lhs.compare(p, 3, "...") == 0) {
      if (terms.back().find('.') != std::string::npos) malformed("an operand has two ellipses");
      terms.back().push_back('.');
      p += 2;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      terms.back().push_back(c);
    } else {
      malformed(std::string("'") + c + "' is not a subscript letter");
    }
  }
  if (terms.size() != ctx.input_count())
    malformed("names " + std::to_string(terms.size()) + " operands, the node has " +
              std::to_string(ctx.input_count()));
  if (terms.size() > 2) unsupported("only one or two operands are supported");
  // An ellipsis becomes letters no subscript uses, one per axis it covers, right-aligned
  // across operands as numpy aligns them (a broadcast of size 1 against more is refused below).
  std::string ellipsis;
  for (size_t i = 0; i < terms.size(); ++i) {
    if (terms[i].find('.') == std::string::npos) continue;
    int64_t covered = int64_t(ctx.rank(i)) - int64_t(terms[i].size() - 1);
    if (covered < 0)
      malformed("operand " + std::to_string(i) + " has rank " + std::to_string(ctx.rank(i)) +
                ", fewer axes than its subscripts");
    while (int64_t(ellipsis.size()) < covered) {
      char fresh = 0;
      for (char c : std::string("ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba"))
        if (eq.find(c) == std::string::npos && ellipsis.find(c) == std::string::npos) {
          fresh = c;
          break;
        }
      if (!fresh) unsupported("no letters are left for the ellipsis");
      ellipsis.insert(ellipsis.begin(), fresh);
    }
  }
  for (std::string& t : terms) {
    size_t dot = t.find('.');
    if (dot == std::string::npos) continue;
    size_t covered = ctx.rank(size_t(&t - &terms[0])) - (t.size() - 1);
    t.replace(dot, 1, ellipsis.substr(ellipsis.size() - covered));
  }
  std::map<char, int64_t> size;
  std::map<char, int> count;
  for (size_t i = 0; i < terms.size(); ++i) {
    const Dims& shape = ctx.shape(i);
    if (terms[i].size() != shape.size())
      malformed("operand " + std::to_string(i) + " ('" + terms[i] + "') has rank " +
                std::to_string(shape.size()));
    for (size_t k = 0; k < terms[i].size(); ++k) {
      char c = terms[i][k];
      if (terms[i].find(c) != k)
        unsupported(std::string("'") + c + "' repeats in one operand (a diagonal)");
      ++count[c];
      auto [it, fresh] = size.emplace(c, shape[k]);
      if (!fresh && it->second != shape[k]) {
        if (ellipsis.find(c) != std::string::npos)
          unsupported("the axes '...' covers have sizes " + std::to_string(it->second) +
                      " and " + std::to_string(shape[k]) + " (broadcasting is not supported)");
        malformed(std::string("'") + c + "' has sizes " + std::to_string(it->second) + " and " +
                  std::to_string(shape[k]));
      }
    }
  }
  std::string out;
  if (arrow == std::string::npos) {
    // Implicit output: the ellipsis's axes, then the letters that appear once, in
    // alphabetical order.
    out = ellipsis;
    for (const auto& [c, n] : count)
      if (n == 1 && ellipsis.find(c) == std::string::npos) out.push_back(c);
  } else {
    out = eq.substr(arrow + 2);
    if (size_t dot = out.find("..."); dot != std::string::npos) out.replace(dot, 3, ellipsis);
    for (size_t k = 0; k < out.size(); ++k) {
      if (!size.count(out[k]))
        malformed(std::string("output subscript '") + out[k] + "' is no operand's");
      if (out.find(out[k]) != k)
        malformed(std::string("output subscript '") + out[k] + "' repeats");
    }
  }
  auto in_out = [&](char c) { return out.find(c) != std::string::npos; };

  GraphBuilder& b = ctx.builder();
  std::vector<Operand> x;
  for (size_t i = 0; i < terms.size(); ++i) {
    // Letters no other operand and not the output has are summed away first.
    std::vector<uint32_t> axes;
    std::string kept;
    for (size_t k = 0; k < terms[i].size(); ++k) {
      char c = terms[i][k];
      if (!in_out(c) && count[c] == 1)
        axes.push_back(uint32_t(k));
      else
        kept.push_back(c);
    }
    Operand v = ctx.operand(i);
    if (!axes.empty()) {
      ReduceOptions o;
      o.label = ctx.label();
      o.axes = axes;
      v = b.reduce_sum(v, o);
    }
    x.push_back(v);
    terms[i] = kept;
  }
  if (terms.size() == 1) {
    Operand y = permute_letters(ctx, x[0], terms[0], out);
    if (y.id() == ctx.operand(0).id())
      ctx.alias_output(0, ctx.input(0));
    else
      ctx.set_output(0, y);
    return;
  }
  const std::string &la = terms[0], &lb = terms[1];
  std::string batch, contracted, a_only, b_only;
  for (char c : out)
    if (la.find(c) != std::string::npos && lb.find(c) != std::string::npos) batch.push_back(c);
  for (char c : la) {
    if (lb.find(c) == std::string::npos)
      a_only.push_back(c);
    else if (!in_out(c))
      contracted.push_back(c);
  }
  for (char c : lb)
    if (la.find(c) == std::string::npos) b_only.push_back(c);
  auto product = [&](const std::string& letters) {
    int64_t p = 1;
    for (char c : letters) p *= size[c];
    return p;
  };
  int64_t nb = product(batch), m = product(a_only), k = product(contracted), n = product(b_only);
  auto with_batch = [&](Dims tail) {
    if (!batch.empty()) tail.insert(tail.begin(), nb);
    return tail;
  };
  Operand a = reshape_if_needed(ctx, permute_letters(ctx, x[0], la, batch + a_only + contracted),
                                with_batch({m, k}));
  Operand bm = reshape_if_needed(
      ctx, permute_letters(ctx, x[1], lb, batch + contracted + b_only), with_batch({k, n}));
  Operand y = b.matmul(a, bm, ctx.options());
  std::string letters = batch + a_only + b_only;
  Dims dims;
  for (char c : letters) dims.push_back(size[c]);
  y = reshape_if_needed(ctx, y, dims);
  ctx.set_output(0, permute_letters(ctx, y, letters, out));
}

}  // namespace

void register_matmul_converters(ConverterTable& t) {
  t["MatMul"] = matmul;
  t["Gemm"] = gemm;
  t["Einsum"] = einsum;
}

}  // namespace cppnn::onnx_import
