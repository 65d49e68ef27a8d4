// The top-k (sparse) KD loss: distillation from a teacher's k largest logits per row, as a teacher-logit cache stores
// them. With s the student's logits (all C classes), v the teacher's top-k logits and i their class indices:
//
//   p̂ = softmax(v/T) over the k entries (the teacher renormalised over its top-k classes),
//   log q = log_softmax(s/T) over all C classes, gathered at i,
//   loss = Σ_rows Σ_k p̂ (log p̂ − log q_i) / size(0)       (kl_div 'batchmean' of the gathered log q against p̂)
//
// The gradient in s is (softmax(s/T) − scatter(p̂ at i)) / (size(0)·T); with k = C it is the dense KD loss.
// Two implementations with one contract (as kd_loss.cc): composite — log_softmax, gather, softmax, kl_div through
// ATen; fused — one autograd function whose forward computes, per row, the student's log-sum-exp (on the CPU the SIMD
// kernel of kd_loss_cpu_kernel.cc; on CUDA topk_kd_loss_cuda.cu, one block per row), the k-term loss and the gradient
// in one pass; backward only scales the saved gradient. On CUDA the default (impl 'auto') stays the composite: the
// kernel runs only when asked for ({impl: 'fused'}) until the GPU suite has checked it against the composite.
#include "kd/kd_loss.h"

#include "addon.h"
#include "kd/kd_loss_cpu_kernel.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

namespace torchkd {
namespace kd {
namespace {

void checkTopkInputs(const at::Tensor& s, const at::Tensor& v, const at::Tensor& idx, double temperature, int64_t dim) {
  if (!(std::isfinite(temperature) && temperature > 0))
    throwRange("topkKdLoss: temperature must be finite and > 0, got " + std::to_string(temperature));
  if (s.dim() < 1) throwRange("topkKdLoss: logits need at least one dimension (the classes)");
  if (dim < -s.dim() || dim >= s.dim())
    throwRange("topkKdLoss: class dim " + std::to_string(dim) + " is out of range for " + std::to_string(s.dim()) + "-d logits");
  if (!at::isFloatingType(s.scalar_type()) || !at::isFloatingType(v.scalar_type()))
    throwType("topkKdLoss: student logits and teacher values must be floating point");
  if (idx.scalar_type() != at::kLong && idx.scalar_type() != at::kInt)
    throwType(std::string("topkKdLoss: teacher indices must be int64 or int32, got ") + c10::toString(idx.scalar_type()));
  if (v.sizes() != idx.sizes())
    throwRange("topkKdLoss: teacher values " + c10::str(v.sizes()) + " and indices " + c10::str(idx.sizes()) + " must have the same shape");
  const int64_t d = dim < 0 ? dim + s.dim() : dim;
  bool same = v.dim() == s.dim();
  for (int64_t k = 0; same && k < s.dim(); k++) same = k == d || v.size(k) == s.size(k);
  if (!same)
    throwRange("topkKdLoss: teacher values " + c10::str(v.sizes()) + " must have the student logits' shape " +
               c10::str(s.sizes()) + " except in the class dim " + std::to_string(dim));
  if (v.size(d) < 1) throwRange("topkKdLoss: k (the teacher's entries per row) must be at least 1");
  if (v.device() != s.device() || idx.device() != s.device())
    throwType("topkKdLoss: student logits, teacher values and indices must be on the same device");
  // Checked here so that both implementations fail alike (gather would name its own bound; the kernel none).
  if (idx.numel() > 0) {
    const int64_t lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
    const int64_t c = s.size(d);
    if (lo < 0 || hi >= c)
      throwRange("topkKdLoss: teacher index " + std::to_string(lo < 0 ? lo : hi) + " is out of range for " + std::to_string(c) + " classes");
  }
}

// Moves the class dim last and flattens the rest into rows; contiguous.
at::Tensor rowsOf(const at::Tensor& x, int64_t d) {
  at::Tensor m = d == x.dim() - 1 ? x : x.movedim(d, -1);
  m = m.detach().contiguous();
  return m.reshape({-1, m.size(-1)});
}

// The teacher's part of one row (k entries, double): p̂ in `p` and log p̂ in `logP`.
template <typename V>
void teacherRow(const V* v, int64_t k, double invT, double* p, double* logP) {
  double mt = -INFINITY;
  for (int64_t i = 0; i < k; i++) mt = static_cast<double>(v[i]) > mt ? static_cast<double>(v[i]) : mt;
  double zb = 0;
  for (int64_t i = 0; i < k; i++) {
    logP[i] = (static_cast<double>(v[i]) - mt) * invT;
    p[i] = std::exp(logP[i]);
    zb += p[i];
  }
  const double lnZb = std::log(zb);
  for (int64_t i = 0; i < k; i++) {
    p[i] /= zb;
    logP[i] -= lnZb;
  }
}

// One row. S: float or double student logits; I: int32 or int64 indices. `grad` (nullable) gets the gradient row.
template <typename S, typename I>
double topkRow(const S* s, const S* v, const I* idx, S* grad, int64_t c, int64_t k, double invT, double gradScale,
               double* buf) {
  double* p = buf;
  double* logP = buf + k;
  double ms, za;
  if constexpr (std::is_same_v<S, float>) {
    float m;
    za = kdRowExpSum(s, grad, c, static_cast<float>(invT), &m);  // the exponentials go straight to the gradient row
    ms = m;
  } else {
    ms = -INFINITY;
    for (int64_t j = 0; j < c; j++) ms = s[j] > ms ? s[j] : ms;
    za = 0;
    for (int64_t j = 0; j < c; j++) {
      const double e = std::exp((s[j] - ms) * invT);
      za += e;
      if (grad) grad[j] = e;
    }
  }
  teacherRow(v, k, invT, p, logP);
  const double lnZa = std::log(za);
  double loss = 0;
  for (int64_t i = 0; i < k; i++) {
    if (p[i] == 0) continue;  // 0·log 0 = 0: a −inf teacher value contributes nothing (PyTorch's kl_div)
    const double logQ = (static_cast<double>(s[idx[i]]) - ms) * invT - lnZa;
    loss += p[i] * (logP[i] - logQ);
  }
  if (grad) {
    const S a = static_cast<S>(gradScale / za);
    for (int64_t j = 0; j < c; j++) grad[j] *= a;
    for (int64_t i = 0; i < k; i++) grad[idx[i]] -= static_cast<S>(p[i] * gradScale);
  }
  return loss;
}

template <typename S, typename I>
double topkRows(const at::Tensor& s2d, const at::Tensor& v2d, const at::Tensor& i2d, at::Tensor* grad, double invT,
                double gradScale) {
  const int64_t rows = s2d.size(0), c = s2d.size(1), k = v2d.size(1);
  const S* sp = s2d.const_data_ptr<S>();
  const S* vp = v2d.const_data_ptr<S>();
  const I* ip = i2d.const_data_ptr<I>();
  S* gp = grad ? grad->data_ptr<S>() : nullptr;
  std::vector<double> rowLoss(static_cast<size_t>(rows), 0.0);
  // Rows are independent; each thread takes whole rows, so no result depends on the thread count.
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(c, 1));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    std::vector<double> buf(static_cast<size_t>(2 * k));
    for (int64_t r = begin; r < end; r++)
      rowLoss[r] = topkRow<S, I>(sp + r * c, vp + r * k, ip + r * k, gp ? gp + r * c : nullptr, c, k, invT, gradScale, buf.data());
  });
  double total = 0;
  for (double x : rowLoss) total += x;  // sequential: independent of the thread count
  return total;
}

class FusedTopkKdLoss : public torch::autograd::Function<FusedTopkKdLoss> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& s, const at::Tensor& v,
                            const at::Tensor& idx, double temperature, int64_t dim) {
    const int64_t d = dim < 0 ? dim + s.dim() : dim;
    // float32 or float64 arithmetic: float16/bfloat16 logits are computed in float32 and the gradient rounded back.
    const at::ScalarType promoted = at::promote_types(s.scalar_type(), v.scalar_type());
    const at::ScalarType compute = promoted == at::kDouble ? at::kDouble : at::kFloat;
    at::Tensor s2d = rowsOf(s.scalar_type() == compute ? s : s.detach().to(compute), d);
    at::Tensor v2d = rowsOf(v.scalar_type() == compute ? v : v.to(compute), d);
    at::Tensor i2d = rowsOf(idx, d);
    const bool withGrad = s.requires_grad();
    const int64_t batch = s.size(0);
    const double invT = 1.0 / temperature;
    const double gradScale = 1.0 / (temperature * static_cast<double>(batch));
    at::Tensor grad;
    at::Tensor loss;
#ifdef TORCHKD_WITH_CUDA
    if (s.is_cuda()) {
      auto out = topkForwardCuda(s2d, v2d, i2d, temperature, gradScale, withGrad);
      grad = out.second;
      loss = (out.first / static_cast<double>(batch)).to(promoted);
    } else
#endif
    {
      // Recycled between steps (a fresh N×C block is faulted in page by page, slower than the kernel itself).
      grad = withGrad ? pooledGradBuffer(s2d.sizes(), compute) : at::Tensor();
      at::Tensor* gp = withGrad ? &grad : nullptr;
      const bool i64 = idx.scalar_type() == at::kLong;
      double total;
      if (compute == at::kDouble)
        total = i64 ? topkRows<double, int64_t>(s2d, v2d, i2d, gp, invT, gradScale) : topkRows<double, int32_t>(s2d, v2d, i2d, gp, invT, gradScale);
      else
        total = i64 ? topkRows<float, int64_t>(s2d, v2d, i2d, gp, invT, gradScale) : topkRows<float, int32_t>(s2d, v2d, i2d, gp, invT, gradScale);
      loss = at::scalar_tensor(total / static_cast<double>(batch), at::kDouble).to(promoted);
    }
    if (withGrad) {
      at::Tensor moved = s.movedim(d, -1);
      at::Tensor g = grad.reshape(moved.sizes());
      if (d != s.dim() - 1) g = g.movedim(-1, d);
      ctx->saved_data["grad"] = g;
      ctx->saved_data["dtype"] = static_cast<int64_t>(s.scalar_type());
    }
    return loss;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list gradOutputs) {
    auto it = ctx->saved_data.find("grad");
    // A c10::Error (see FusedKdLoss::backward in kd_loss.cc): the autograd engine hands those back to the caller.
    TORCH_CHECK(it != ctx->saved_data.end() && it->second.isTensor(),
                "topkKdLoss (fused): backward ran twice through the same graph; use {impl: 'composite'} with retainGraph");
    at::Tensor g = it->second.toTensor();
    ctx->saved_data.erase("grad");
    const auto inputType = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
#ifdef TORCHKD_WITH_CUDA
    if (g.is_cuda()) {
      scaleGradCuda(g, gradOutputs[0]);  // on the device, no host sync (g walks a contiguous float/double buffer)
      return {g.to(inputType), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
#endif
    const double f = gradOutputs[0].item<double>();
    if (f != 1.0) g.mul_(f);
    return {g.to(inputType), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor topkLossComposite(const at::Tensor& s, const at::Tensor& v, const at::Tensor& idx, double temperature, int64_t dim) {
  checkTopkInputs(s, v, idx, temperature, dim);
  // F.kl_div(F.log_softmax(s / T, dim).gather(dim, idx), F.softmax(v / T, dim).detach(), reduction='batchmean').
  at::Tensor logQ = at::log_softmax(s / temperature, dim).gather(dim, idx.to(at::kLong));
  at::Tensor p = at::softmax(v / temperature, dim).detach();
  at::Tensor sum = at::kl_div(logQ, p, at::Reduction::Sum, false);
  return sum / logQ.size(0);
}

at::Tensor topkLossFused(const at::Tensor& s, const at::Tensor& v, const at::Tensor& idx, double temperature, int64_t dim) {
  checkTopkInputs(s, v, idx, temperature, dim);
  if (!(s.is_cpu() || s.is_cuda())) throwType("topkKdLoss (fused): only CPU and CUDA tensors are supported; use {impl: 'composite'} on other devices");
#ifndef TORCHKD_WITH_CUDA
  if (s.is_cuda()) throwType("topkKdLoss (fused): this torchkd binary was built without CUDA; use {impl: 'composite'}");
#endif
  return FusedTopkKdLoss::apply(s, v.detach(), idx.detach(), temperature, dim);
}

}  // namespace kd

namespace {

// topkKdLoss(student, values, indices, temperature, dim, impl): impl 0 auto (fused on the CPU, composite elsewhere:
// see the file comment), 1 fused, 2 composite.
Napi::Value topkKdLoss(const Napi::CallbackInfo& info) {
  const auto& s = tensorArg(info, 0);
  const auto& v = tensorArg(info, 1);
  const auto& idx = tensorArg(info, 2);
  double temperature = doubleArg(info, 3, "temperature");
  int64_t dim = int64Arg(info, 4, "dim");
  int impl = intArg(info, 5, "impl");
  if (impl == 2 || (impl == 0 && !s.is_cpu())) return wrap(info, kd::topkLossComposite(s, v, idx, temperature, dim));
  return wrap(info, kd::topkLossFused(s, v, idx, temperature, dim));
}

}  // namespace

void initTopkKd(Napi::Env env, Napi::Object exports) { exportGuarded(env, exports, "topkKdLoss", topkKdLoss); }

}  // namespace torchkd
