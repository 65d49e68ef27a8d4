// Optimizer steps, one native call per parameter group.
//
// The arithmetic follows PyTorch's single-tensor implementations (torch/optim/sgd.py `_single_tensor_sgd`,
// adam.py `_single_tensor_adam`, which Python uses for CPU tensors) op for op, so parameters after N steps are
// bit-identical to Python's on the same libtorch. The C++ frontend's optimizers are not used: their Adam updates
// the first moment with mul_/add_ where Python uses lerp_, which rounds differently.
#include "addon.h"

#include <c10/core/GradMode.h>

#include <cmath>

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

}  // namespace

void initOptim(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "sgdStep", sgdStep);
  exportGuarded(env, exports, "adamStep", adamStep);
  exportGuarded(env, exports, "zeroGrad", zeroGrad);
}

}  // namespace torchkd
