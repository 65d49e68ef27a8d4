// Optimizer steps, one native call per parameter group, and gradient clipping.
//
// The arithmetic follows PyTorch's single-tensor implementations (torch/optim/sgd.py `_single_tensor_sgd`,
// adam.py `_single_tensor_adam`, which Python uses for CPU tensors) op for op, so parameters after N steps are
// bit-identical to Python's on the same libtorch (on CUDA, to Python's foreach=False: its default there is the
// multi-tensor Adam, whose division by the bias correction can round differently). The C++ frontend's optimizers are
// not used: their Adam updates
// the first moment with mul_/add_ where Python uses lerp_, which rounds differently.
#include "addon.h"

#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

namespace torchkd {
namespace {

// sgdStep(params[], momentumBuffers[] (handle or -1), lr, momentum, dampening, weightDecay, nesterov, maximize)
//   -> for each parameter, the handle of a momentum buffer created by this step (first step with a gradient), else
//      null; lib/optim keeps them as Python keeps state['momentum_buffer'].
Napi::Value sgdStep(const Napi::CallbackInfo& info) {
  auto params = tensorListArg(info, 0, "params");
  if (!info[1].IsArray()) throwType("sgdStep: expected momentum buffers");
  auto bufArr = info[1].As<Napi::Array>();
  double lr = doubleArg(info, 2, "lr"), momentum = doubleArg(info, 3, "momentum");
  double dampening = doubleArg(info, 4, "dampening"), weightDecay = doubleArg(info, 5, "weightDecay");
  bool nesterov = boolArg(info, 6, "nesterov"), maximize = boolArg(info, 7, "maximize");
  auto& table = addon(info.Env()).tensors;
  Napi::Env env = info.Env();
  auto out = Napi::Array::New(env, params.size());
  c10::NoGradGuard noGrad;
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& param = params[i];
    double bh = bufArr.Get(static_cast<uint32_t>(i)).As<Napi::Number>().DoubleValue();
    out.Set(static_cast<uint32_t>(i), env.Null());
    const at::Tensor& g = param.grad();
    if (!g.defined()) continue;
    at::Tensor grad = maximize ? -g : g;
    if (weightDecay != 0) grad = grad.add(param, weightDecay);
    if (momentum != 0) {
      at::Tensor buf;
      if (bh < 0) {
        buf = grad.detach().clone();
        out.Set(static_cast<uint32_t>(i), wrap(env, buf));
      } else {
        buf = table.get(bh);
        buf.mul_(momentum).add_(grad, 1 - dampening);
      }
      grad = nesterov ? grad.add(buf, momentum) : buf;
    }
    param.add_(grad, -lr);
  }
  return out;
}

// adamStep(params[], expAvgs[], expAvgSqs[], maxExpAvgSqs[] | null, steps[], lr, beta1, beta2, eps, weightDecay,
//          amsgrad, maximize, decoupledWeightDecay). State tensors are created (zeros) by lib/optim, lazily, as Python.
Napi::Value adamStep(const Napi::CallbackInfo& info) {
  auto params = tensorListArg(info, 0, "params");
  auto expAvgs = tensorListArg(info, 1, "expAvgs");
  auto expAvgSqs = tensorListArg(info, 2, "expAvgSqs");
  bool amsgrad = boolArg(info, 10, "amsgrad");
  std::vector<at::Tensor> maxSqs;
  if (amsgrad) maxSqs = tensorListArg(info, 3, "maxExpAvgSqs");
  auto steps = tensorListArg(info, 4, "steps");
  double lr = doubleArg(info, 5, "lr"), beta1 = doubleArg(info, 6, "beta1"), beta2 = doubleArg(info, 7, "beta2");
  double eps = doubleArg(info, 8, "eps"), weightDecay = doubleArg(info, 9, "weightDecay");
  bool maximize = boolArg(info, 11, "maximize"), decoupled = boolArg(info, 12, "decoupledWeightDecay");
  size_t n = params.size();
  if (expAvgs.size() != n || expAvgSqs.size() != n || steps.size() != n || (amsgrad && maxSqs.size() != n))
    throwRange("adamStep: state lists must match the parameters");
  c10::NoGradGuard noGrad;
  for (size_t i = 0; i < n; i++) {
    at::Tensor& param = params[i];
    const at::Tensor& g = param.grad();
    if (!g.defined()) continue;
    at::Tensor grad = maximize ? -g : g;
    at::Tensor& expAvg = expAvgs[i];
    at::Tensor& expAvgSq = expAvgSqs[i];
    steps[i].add_(1);
    if (weightDecay != 0) {
      if (decoupled)
        param.mul_(1 - lr * weightDecay);
      else
        grad = grad.add(param, weightDecay);
    }
    expAvg.lerp_(grad, 1 - beta1);
    expAvgSq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    double step = steps[i].item<double>();
    double biasCorrection1 = 1 - std::pow(beta1, step);
    double biasCorrection2 = 1 - std::pow(beta2, step);
    double stepSize = lr / biasCorrection1;
    double biasCorrection2Sqrt = std::pow(biasCorrection2, 0.5);
    at::Tensor denom;
    if (amsgrad) {
      at::maximum_out(maxSqs[i], maxSqs[i], expAvgSq);
      denom = (maxSqs[i].sqrt() / biasCorrection2Sqrt).add_(eps);
    } else {
      denom = (expAvgSq.sqrt() / biasCorrection2Sqrt).add_(eps);
    }
    param.addcdiv_(expAvg, denom, -stepSize);
  }
  return info.Env().Undefined();
}

// zeroGrad(params[], setToNone)
Napi::Value zeroGrad(const Napi::CallbackInfo& info) {
  auto params = tensorListArg(info, 0, "params");
  bool setToNone = boolArg(info, 1, "setToNone");
  for (auto& p : params) {
    at::Tensor& g = p.mutable_grad();
    if (!g.defined()) continue;
    if (setToNone) {
      g = at::Tensor();
    } else {
      if (g.grad_fn())
        g = g.detach();
      else
        g.requires_grad_(false);
      g.zero_();
    }
  }
  return info.Env().Undefined();
}

// ---- gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_) -----------------------------------
// As torch/nn/utils/clip_grad.py: gradients grouped by (device, dtype) in first-seen order; the foreach kernels
// (PyTorch's default on CPU and CUDA) or, with foreach false, one op per tensor.

std::vector<std::vector<at::Tensor>> byDeviceAndDtype(const std::vector<at::Tensor>& ts) {
  std::vector<std::vector<at::Tensor>> groups;
  for (const auto& t : ts) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const std::vector<at::Tensor>& g) {
      return g[0].device() == t.device() && g[0].scalar_type() == t.scalar_type();
    });
    if (it == groups.end()) groups.push_back({t});
    else it->push_back(t);
  }
  return groups;
}

std::string pyFloat(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  std::ostringstream os;
  os << std::setprecision(17) << v;
  std::string s = os.str();
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// clipGradNorm(grads[], maxNorm, normType, errorIfNonfinite, foreach) -> the total norm
Napi::Value clipGradNorm(const Napi::CallbackInfo& info) {
  auto grads = tensorListArg(info, 0, "grads");
  const double maxNorm = doubleArg(info, 1, "maxNorm"), normType = doubleArg(info, 2, "normType");
  const bool errorIfNonfinite = boolArg(info, 3, "errorIfNonfinite"), foreach = boolArg(info, 4, "foreach");
  c10::NoGradGuard noGrad;
  if (grads.empty()) return wrap(info, at::scalar_tensor(0.0, at::kFloat));
  const auto first = grads[0].device();
  const auto groups = byDeviceAndDtype(grads);
  std::vector<at::Tensor> norms;
  for (const auto& g : groups) {
    if (foreach) {
      for (auto& n : at::_foreach_norm(g, normType)) norms.push_back(n.to(first));
    } else {
      for (const auto& t : g) norms.push_back(at::linalg_vector_norm(t, normType).to(first));
    }
  }
  at::Tensor total = at::linalg_vector_norm(at::stack(norms), normType);
  if (errorIfNonfinite && at::logical_or(total.isnan(), total.isinf()).item<bool>())
    throw c10::Error({__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                     "The total norm of order " + pyFloat(normType) +
                         " for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this "
                         "error and scale the gradients by the non-finite norm anyway, set errorIfNonfinite: false");
  // max_norm / (total_norm + 1e-6) in Python is reciprocal(total + 1e-6) * max_norm (Tensor.__rtruediv__).
  const at::Tensor coef = at::clamp_max(at::reciprocal(total + 1e-6) * maxNorm, 1.0);
  for (auto g : groups) {
    const at::Tensor c = coef.to(g[0].device());
    if (foreach) at::_foreach_mul_(g, c);
    else for (auto& t : g) t.mul_(c);
  }
  return wrap(info, total);
}

// clipGradValue(grads[], clipValue, foreach): each gradient clamped into [-clipValue, clipValue] in place
Napi::Value clipGradValue(const Napi::CallbackInfo& info) {
  auto grads = tensorListArg(info, 0, "grads");
  const double v = doubleArg(info, 1, "clipValue");
  const bool foreach = boolArg(info, 2, "foreach");
  c10::NoGradGuard noGrad;
  for (auto g : byDeviceAndDtype(grads)) {
    if (foreach) {
      at::_foreach_clamp_min_(g, -v);
      at::_foreach_clamp_max_(g, v);
    } else {
      for (auto& t : g) t.clamp_(-v, v);
    }
  }
  return info.Env().Undefined();
}

}  // namespace

void initOptim(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "sgdStep", sgdStep);
  exportGuarded(env, exports, "adamStep", adamStep);
  exportGuarded(env, exports, "zeroGrad", zeroGrad);
  exportGuarded(env, exports, "clipGradNorm", clipGradNorm);
  exportGuarded(env, exports, "clipGradValue", clipGradValue);
}

}  // namespace torchkd
