// Tensor operators: pointwise, comparison, matrix, reduction and shape ops.
//
// Families of ops share one export each with an op code (the codes are mirrored in lib/ops-codes.ts). One switch
// costs nothing next to libtorch's dispatch, and keeps this file a table rather than hundreds of near-identical
// functions.
#include "addon.h"

namespace torchkd {
namespace {

at::Tensor unaryOp(int op, const at::Tensor& t) {
  switch (op) {
    case 0: return at::neg(t);
    case 1: return at::exp(t);
    case 2: return at::log(t);
    case 3: return at::sqrt(t);
    case 4: return at::abs(t);
    case 5: return at::sign(t);
    case 6: return at::sigmoid(t);
    case 7: return at::tanh(t);
    case 8: return at::relu(t);
    case 9: return t.clone();
    case 10: return t.detach();
    case 11: return t.contiguous();
    case 12: return t.t();
    case 13: return at::floor(t);
    case 14: return at::ceil(t);
    case 15: return at::round(t);
    case 16: return at::sin(t);
    case 17: return at::cos(t);
    case 18: return at::rsqrt(t);
    case 19: return at::reciprocal(t);
    case 20: return at::log1p(t);
    case 21: return at::expm1(t);
    case 22: return at::square(t);
    case 23: return at::logical_not(t);
    case 24: return at::isnan(t);
    case 25: return at::isfinite(t);
    case 26: return at::log2(t);
    case 27: return at::erf(t);
    case 28: return at::trunc(t);
    case 29: return at::isinf(t);
    case 30: return at::any(t);
    case 31: return at::all(t);
    case 32: return at::flatten(t);
    case 33: return t.squeeze();
    case 34: return at::silu(t);
    default: throwRange("unknown unary op " + std::to_string(op));
  }
}

Napi::Value unary(const Napi::CallbackInfo& info) {
  return wrap(info, unaryOp(intArg(info, 0, "op"), tensorArg(info, 1)));
}

at::Tensor binaryOp(int op, const at::Tensor& a, const at::Tensor& b, const at::Scalar& alpha) {
  switch (op) {
    case 0: return at::add(a, b, alpha);
    case 1: return at::sub(a, b, alpha);
    case 2: return at::mul(a, b);
    case 3: return at::div(a, b);
    case 4: return at::pow(a, b);
    case 5: return at::eq(a, b);
    case 6: return at::ne(a, b);
    case 7: return at::lt(a, b);
    case 8: return at::le(a, b);
    case 9: return at::gt(a, b);
    case 10: return at::ge(a, b);
    case 11: return at::maximum(a, b);
    case 12: return at::minimum(a, b);
    case 13: return at::matmul(a, b);
    case 14: return at::mm(a, b);
    case 15: return at::bmm(a, b);
    case 16: return at::remainder(a, b);
    case 17: return at::atan2(a, b);
    case 18: return at::logical_and(a, b);
    case 19: return at::logical_or(a, b);
    case 20: return at::floor_divide(a, b);
    case 21: return at::dot(a, b);
    case 22: return at::div(a, b, "floor");
    case 23: return at::div(a, b, "trunc");
    case 24: return at::logical_xor(a, b);
    default: throwRange("unknown binary op " + std::to_string(op));
  }
}

// binary(op, a, b, alpha?)
Napi::Value binary(const Napi::CallbackInfo& info) {
  at::Scalar alpha = isMissing(info, 3) ? at::Scalar(int64_t(1)) : scalarArg(info, 3, "alpha");
  return wrap(info, binaryOp(intArg(info, 0, "op"), tensorArg(info, 1), tensorArg(info, 2), alpha));
}

at::Tensor scalarOp(int op, const at::Tensor& a, const at::Scalar& s, const at::Scalar& alpha) {
  switch (op) {
    case 0: return at::add(a, s, alpha);
    case 1: return at::sub(a, s, alpha);
    case 2: return at::mul(a, s);
    case 3: return at::div(a, s);
    case 4: return at::pow(a, s);
    case 5: return at::eq(a, s);
    case 6: return at::ne(a, s);
    case 7: return at::lt(a, s);
    case 8: return at::le(a, s);
    case 9: return at::gt(a, s);
    case 10: return at::ge(a, s);
    case 11: return at::clamp_min(a, s);
    case 12: return at::clamp_max(a, s);
    case 16: return at::remainder(a, s);
    case 20: return at::floor_divide(a, s);
    case 22: return at::div(a, s, "floor");
    case 23: return at::div(a, s, "trunc");
    case 100: return at::rsub(a, s, alpha);                 // s - alpha * a
    case 101: return at::mul(at::reciprocal(a), s);         // s / a
    case 102: return at::pow(s, a);                         // s ** a
    default: throwRange("unknown scalar op " + std::to_string(op));
  }
}

// binaryScalar(op, a, scalar, alpha?)
Napi::Value binaryScalar(const Napi::CallbackInfo& info) {
  at::Scalar alpha = isMissing(info, 3) ? at::Scalar(int64_t(1)) : scalarArg(info, 3, "alpha");
  return wrap(info, scalarOp(intArg(info, 0, "op"), tensorArg(info, 1), scalarArg(info, 2, "other"), alpha));
}

// inplace(op, a, b|scalar, alpha?, isScalar): add_, sub_, mul_, div_, copy_, fill_, clamp_min_, clamp_max_.
Napi::Value inplace(const Napi::CallbackInfo& info) {
  int op = intArg(info, 0, "op");
  at::Tensor a = tensorArg(info, 1);
  bool isScalar = boolArg(info, 4, "isScalar");
  at::Scalar alpha = isMissing(info, 3) ? at::Scalar(int64_t(1)) : scalarArg(info, 3, "alpha");
  if (isScalar) {
    at::Scalar s = scalarArg(info, 2, "other");
    switch (op) {
      case 0: a.add_(s, alpha); break;
      case 1: a.sub_(s, alpha); break;
      case 2: a.mul_(s); break;
      case 3: a.div_(s); break;
      case 4: a.pow_(s); break;
      case 11: a.clamp_min_(s); break;
      case 12: a.clamp_max_(s); break;
      case 50: a.fill_(s); break;
      default: throwRange("unknown in-place scalar op " + std::to_string(op));
    }
  } else {
    const at::Tensor& b = tensorArg(info, 2);
    switch (op) {
      case 0: a.add_(b, alpha); break;
      case 1: a.sub_(b, alpha); break;
      case 2: a.mul_(b); break;
      case 3: a.div_(b); break;
      case 4: a.pow_(b); break;
      case 50: a.fill_(b); break;
      case 51: a.copy_(b); break;
      default: throwRange("unknown in-place op " + std::to_string(op));
    }
  }
  return info.Env().Undefined();
}

// inplaceUnary(op, t, a?, b?): zero_, uniform_(a, b), normal_(mean, std), relu_, exp_ ...
Napi::Value inplaceUnary(const Napi::CallbackInfo& info) {
  int op = intArg(info, 0, "op");
  at::Tensor t = tensorArg(info, 1);
  switch (op) {
    case 0: t.zero_(); break;
    case 1: t.uniform_(doubleArg(info, 2, "from"), doubleArg(info, 3, "to")); break;
    case 2: t.normal_(doubleArg(info, 2, "mean"), doubleArg(info, 3, "std")); break;
    case 3: t.relu_(); break;
    case 4: t.neg_(); break;
    case 5: t.exp_(); break;
    case 6: t.sqrt_(); break;
    case 7: t.abs_(); break;
    default: throwRange("unknown in-place unary op " + std::to_string(op));
  }
  return info.Env().Undefined();
}

c10::optional<std::vector<int64_t>> optionalDims(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  if (info[i].IsNumber()) return std::vector<int64_t>{int64Arg(info, i, "dim")};
  return int64ListArg(info, i, "dim");
}

// reduce(op, t, dims|null, keepdim, dtype?): 0 sum, 1 mean, 2 amax, 3 amin, 4 logsumexp, 5 prod (one dim), 6 nansum.
Napi::Value reduce(const Napi::CallbackInfo& info) {
  int op = intArg(info, 0, "op");
  const auto& t = tensorArg(info, 1);
  auto dims = optionalDims(info, 2);
  bool keep = !isMissing(info, 3) && boolArg(info, 3, "keepdim");
  auto dtype = optionalDtypeArg(info, 4);
  std::vector<int64_t> all;
  switch (op) {
    case 0: return wrap(info, dims ? at::sum(t, *dims, keep, dtype) : at::sum(t, dtype));
    case 1: return wrap(info, dims ? at::mean(t, *dims, keep, dtype) : at::mean(t, dtype));
    case 2: return wrap(info, at::amax(t, dims.value_or(all), keep));
    case 3: return wrap(info, at::amin(t, dims.value_or(all), keep));
    case 4: {
      if (!dims) for (int64_t d = 0; d < t.dim(); d++) all.push_back(d);
      return wrap(info, at::logsumexp(t, dims.value_or(all), keep));
    }
    case 5: {
      if (!dims) return wrap(info, at::prod(t, dtype));
      if (dims->size() != 1) throwRange("prod reduces over one dim");
      return wrap(info, at::prod(t, (*dims)[0], keep, dtype));
    }
    case 6: return wrap(info, dims ? at::nansum(t, *dims, keep, dtype) : at::nansum(t, {}, false, dtype));
    case 7: {
      if (!dims) return wrap(info, at::any(t));
      if (dims->size() != 1) throwRange("any reduces over one dim");
      return wrap(info, at::any(t, (*dims)[0], keep));
    }
    case 8: {
      if (!dims) return wrap(info, at::all(t));
      if (dims->size() != 1) throwRange("all reduces over one dim");
      return wrap(info, at::all(t, (*dims)[0], keep));
    }
    default: throwRange("unknown reduction " + std::to_string(op));
  }
}

// stdVar(isVar, t, dims|null, correction, keepdim)
Napi::Value stdVar(const Napi::CallbackInfo& info) {
  bool isVar = boolArg(info, 0, "isVar");
  const auto& t = tensorArg(info, 1);
  auto dims = optionalDims(info, 2);
  at::Scalar correction = scalarArg(info, 3, "correction");
  bool keep = !isMissing(info, 4) && boolArg(info, 4, "keepdim");
  at::OptionalIntArrayRef d = dims ? at::OptionalIntArrayRef(*dims) : c10::nullopt;
  return wrap(info, isVar ? at::var(t, d, correction, keep) : at::std(t, d, correction, keep));
}

// maxMin(isMax, t, dim?, keepdim): whole-tensor value, or [values, indices] along dim.
Napi::Value maxMin(const Napi::CallbackInfo& info) {
  bool isMax = boolArg(info, 0, "isMax");
  const auto& t = tensorArg(info, 1);
  if (isMissing(info, 2)) return wrap(info, isMax ? at::max(t) : at::min(t));
  int64_t dim = int64Arg(info, 2, "dim");
  bool keep = !isMissing(info, 3) && boolArg(info, 3, "keepdim");
  auto r = isMax ? at::max(t, dim, keep) : at::min(t, dim, keep);
  return wrapList(info, {std::get<0>(r), std::get<1>(r)});
}

// argMaxMin(isMax, t, dim?, keepdim)
Napi::Value argMaxMin(const Napi::CallbackInfo& info) {
  bool isMax = boolArg(info, 0, "isMax");
  const auto& t = tensorArg(info, 1);
  c10::optional<int64_t> dim;
  if (!isMissing(info, 2)) dim = int64Arg(info, 2, "dim");
  bool keep = !isMissing(info, 3) && boolArg(info, 3, "keepdim");
  return wrap(info, isMax ? at::argmax(t, dim, keep) : at::argmin(t, dim, keep));
}

Napi::Value clamp(const Napi::CallbackInfo& info) {
  const auto& t = tensorArg(info, 0);
  c10::optional<at::Scalar> lo, hi;
  if (!isMissing(info, 1)) lo = scalarArg(info, 1, "min");
  if (!isMissing(info, 2)) hi = scalarArg(info, 2, "max");
  if (!lo && !hi) throwType("clamp: at least one of min or max must be given");
  return wrap(info, at::clamp(t, lo, hi));
}

// ---- shape ops ----------------------------------------------------------------------------------------------------

// shapeOp(op, t, shape): 0 reshape, 1 view, 2 expand, 3 permute, 4 repeat, 5 flip
Napi::Value shapeOp(const Napi::CallbackInfo& info) {
  int op = intArg(info, 0, "op");
  const auto& t = tensorArg(info, 1);
  auto shape = int64ListArg(info, 2, "shape");
  switch (op) {
    case 0: return wrap(info, t.reshape(shape));
    case 1: return wrap(info, t.view(shape));
    case 2: return wrap(info, t.expand(shape));
    case 3: return wrap(info, t.permute(shape));
    case 4: return wrap(info, t.repeat(shape));
    case 5: return wrap(info, t.flip(shape));
    default: throwRange("unknown shape op " + std::to_string(op));
  }
}

// dimOp(op, t, a, b?): 0 flatten(start, end), 1 squeeze(dim), 2 unsqueeze(dim), 3 transpose(d0, d1),
// 4 select(dim, index), 5 cumsum(dim), 6 softmax(dim), 7 logSoftmax(dim), 8 tril(k), 9 triu(k), 10 movedim
Napi::Value dimOp(const Napi::CallbackInfo& info) {
  int op = intArg(info, 0, "op");
  const auto& t = tensorArg(info, 1);
  int64_t a = int64Arg(info, 2, "dim");
  auto b = [&](const char* what) { return int64Arg(info, 3, what); };
  switch (op) {
    case 0: return wrap(info, t.flatten(a, b("end_dim")));
    case 1: return wrap(info, t.squeeze(a));
    case 2: return wrap(info, t.unsqueeze(a));
    case 3: return wrap(info, t.transpose(a, b("dim1")));
    case 4: return wrap(info, t.select(a, b("index")));
    case 5: return wrap(info, at::cumsum(t, a, optionalDtypeArg(info, 3)));
    case 6: return wrap(info, at::softmax(t, a, optionalDtypeArg(info, 3)));
    case 7: return wrap(info, at::log_softmax(t, a, optionalDtypeArg(info, 3)));
    case 8: return wrap(info, at::tril(t, a));
    case 9: return wrap(info, at::triu(t, a));
    case 10: return wrap(info, t.movedim(a, b("destination")));
    default: throwRange("unknown dim op " + std::to_string(op));
  }
}

Napi::Value narrow(const Napi::CallbackInfo& info) {
  return wrap(info, tensorArg(info, 0).narrow(int64Arg(info, 1, "dim"), int64Arg(info, 2, "start"), int64Arg(info, 3, "length")));
}

Napi::Value slice(const Napi::CallbackInfo& info) {
  const auto& t = tensorArg(info, 0);
  c10::optional<int64_t> start, end;
  if (!isMissing(info, 2)) start = int64Arg(info, 2, "start");
  if (!isMissing(info, 3)) end = int64Arg(info, 3, "end");
  int64_t step = isMissing(info, 4) ? 1 : int64Arg(info, 4, "step");
  if (step <= 0) throwRange("slice step must be positive");
  return wrap(info, t.slice(int64Arg(info, 1, "dim"), start, end, step));
}

// catStack(isStack, tensors, dim)
Napi::Value catStack(const Napi::CallbackInfo& info) {
  bool isStack = boolArg(info, 0, "isStack");
  auto ts = tensorListArg(info, 1, "tensors");
  if (ts.empty()) throwRange(std::string(isStack ? "stack" : "cat") + " expects a non-empty list of tensors");
  int64_t dim = int64Arg(info, 2, "dim");
  return wrap(info, isStack ? at::stack(ts, dim) : at::cat(ts, dim));
}

// split(t, sizeOrSizes, dim)
Napi::Value split(const Napi::CallbackInfo& info) {
  const auto& t = tensorArg(info, 0);
  int64_t dim = int64Arg(info, 2, "dim");
  if (info[1].IsArray()) return wrapList(info, at::split_with_sizes(t, int64ListArg(info, 1, "split sizes"), dim));
  int64_t size = int64Arg(info, 1, "split size");
  if (size <= 0) throwRange("split size must be positive");
  return wrapList(info, at::split(t, size, dim));
}

Napi::Value chunk(const Napi::CallbackInfo& info) {
  int64_t n = int64Arg(info, 1, "chunks");
  if (n <= 0) throwRange("chunks must be positive");
  return wrapList(info, at::chunk(tensorArg(info, 0), n, int64Arg(info, 2, "dim")));
}

Napi::Value unbind(const Napi::CallbackInfo& info) {
  return wrapList(info, at::unbind(tensorArg(info, 0), int64Arg(info, 1, "dim")));
}

// indexOp(op, t, dim, index): 0 index_select, 1 gather
Napi::Value indexOp(const Napi::CallbackInfo& info) {
  int op = intArg(info, 0, "op");
  const auto& t = tensorArg(info, 1);
  int64_t dim = int64Arg(info, 2, "dim");
  const auto& idx = tensorArg(info, 3);
  return wrap(info, op == 0 ? at::index_select(t, dim, idx) : at::gather(t, dim, idx));
}

// scatter(t, dim, index, src|scalar)
Napi::Value scatter(const Napi::CallbackInfo& info) {
  const auto& t = tensorArg(info, 0);
  int64_t dim = int64Arg(info, 1, "dim");
  const auto& idx = tensorArg(info, 2);
  if (boolArg(info, 4, "isScalar")) return wrap(info, at::scatter(t, dim, idx, scalarArg(info, 3, "value")));
  return wrap(info, at::scatter(t, dim, idx, tensorArg(info, 3)));
}

// index(t, idx): advanced indexing with one index tensor along dim 0 (bool mask or int64 indices)
Napi::Value indexWith(const Napi::CallbackInfo& info) {
  const auto& t = tensorArg(info, 0);
  c10::List<c10::optional<at::Tensor>> indices;
  indices.push_back(tensorArg(info, 1));
  return wrap(info, at::index(t, indices));
}

Napi::Value maskedFill(const Napi::CallbackInfo& info) {
  const auto& t = tensorArg(info, 0);
  const auto& mask = tensorArg(info, 1);
  if (info[2].IsNumber() && boolArg(info, 3, "isScalar")) return wrap(info, at::masked_fill(t, mask, scalarArg(info, 2, "value")));
  return wrap(info, at::masked_fill(t, mask, tensorArg(info, 2)));
}

Napi::Value where(const Napi::CallbackInfo& info) {
  return wrap(info, at::where(tensorArg(info, 0), tensorArg(info, 1), tensorArg(info, 2)));
}

Napi::Value oneHot(const Napi::CallbackInfo& info) {
  int64_t n = isMissing(info, 1) ? -1 : int64Arg(info, 1, "numClasses");
  return wrap(info, at::one_hot(tensorArg(info, 0), n));
}

Napi::Value topk(const Napi::CallbackInfo& info) {
  auto r = at::topk(tensorArg(info, 0), int64Arg(info, 1, "k"), int64Arg(info, 2, "dim"), boolArg(info, 3, "largest"),
                    boolArg(info, 4, "sorted"));
  return wrapList(info, {std::get<0>(r), std::get<1>(r)});
}

Napi::Value sort(const Napi::CallbackInfo& info) {
  auto r = at::sort(tensorArg(info, 0), boolArg(info, 3, "stable"), int64Arg(info, 1, "dim"), boolArg(info, 2, "descending"));
  return wrapList(info, {std::get<0>(r), std::get<1>(r)});
}

Napi::Value argsort(const Napi::CallbackInfo& info) {
  return wrap(info, at::argsort(tensorArg(info, 0), boolArg(info, 3, "stable"), int64Arg(info, 1, "dim"), boolArg(info, 2, "descending")));
}

Napi::Value equal(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::equal(tensorArg(info, 0), tensorArg(info, 1)));
}

Napi::Value allclose(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::allclose(tensorArg(info, 0), tensorArg(info, 1), doubleArg(info, 2, "rtol"),
                                                     doubleArg(info, 3, "atol"), boolArg(info, 4, "equalNan")));
}

}  // namespace

void initOps(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "unary", unary);
  exportGuarded(env, exports, "binary", binary);
  exportGuarded(env, exports, "binaryScalar", binaryScalar);
  exportGuarded(env, exports, "inplace", inplace);
  exportGuarded(env, exports, "inplaceUnary", inplaceUnary);
  exportGuarded(env, exports, "reduce", reduce);
  exportGuarded(env, exports, "stdVar", stdVar);
  exportGuarded(env, exports, "maxMin", maxMin);
  exportGuarded(env, exports, "argMaxMin", argMaxMin);
  exportGuarded(env, exports, "clamp", clamp);
  exportGuarded(env, exports, "shapeOp", shapeOp);
  exportGuarded(env, exports, "dimOp", dimOp);
  exportGuarded(env, exports, "narrow", narrow);
  exportGuarded(env, exports, "slice", slice);
  exportGuarded(env, exports, "catStack", catStack);
  exportGuarded(env, exports, "split", split);
  exportGuarded(env, exports, "chunk", chunk);
  exportGuarded(env, exports, "unbind", unbind);
  exportGuarded(env, exports, "indexOp", indexOp);
  exportGuarded(env, exports, "scatter", scatter);
  exportGuarded(env, exports, "indexWith", indexWith);
  exportGuarded(env, exports, "maskedFill", maskedFill);
  exportGuarded(env, exports, "where", where);
  exportGuarded(env, exports, "oneHot", oneHot);
  exportGuarded(env, exports, "topk", topk);
  exportGuarded(env, exports, "sort", sort);
  exportGuarded(env, exports, "argsort", argsort);
  exportGuarded(env, exports, "equal", equal);
  exportGuarded(env, exports, "allclose", allclose);
}

}  // namespace torchkd
