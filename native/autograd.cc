// Autograd: backward, .grad, requires_grad, the grad-mode switch behind noGrad()/enableGrad(), and the mixed-precision
// state behind torch.autocast and torch.amp.GradScaler.
#include "addon.h"

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>

namespace torchkd {
namespace {

// Runs a backward pass; an exception a JS module backward hook threw during it is rethrown as itself.
template <typename F>
void runBackward(Napi::Env env, F&& fn) {
  Addon& a = addon(env);
  drainHookReferences(env);
  try {
    fn();
  } catch (const c10::Error&) {
    if (!a.pendingHookError.IsEmpty()) {
      Napi::Value err = a.pendingHookError.Value();
      a.pendingHookError.Reset();
      throw Napi::Error(env, err);
    }
    throw;
  }
  a.pendingHookError.Reset();
  drainHookReferences(env);
}

// backward(t, grad?, retainGraph, createGraph)
Napi::Value backward(const Napi::CallbackInfo& info) {
  const auto& t = tensorArg(info, 0);
  auto grad = optionalTensorArg(info, 1);
  bool retain = !isMissing(info, 2) && boolArg(info, 2, "retainGraph");
  bool create = !isMissing(info, 3) && boolArg(info, 3, "createGraph");
  if (!t.requires_grad())
    throw c10::Error({__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                     "element 0 of tensors does not require grad and does not have a grad_fn");
  if (!grad && t.numel() != 1) throwRange("grad can be implicitly created only for scalar outputs");
  runBackward(info.Env(), [&] { t.backward(grad.value_or(at::Tensor()), retain, create); });
  return info.Env().Undefined();
}

Napi::Value grad(const Napi::CallbackInfo& info) {
  const auto& g = tensorArg(info, 0).grad();
  if (!g.defined()) return info.Env().Null();
  return wrap(info, g);
}

Napi::Value setGrad(const Napi::CallbackInfo& info) {
  at::Tensor t = tensorArg(info, 0);
  auto g = optionalTensorArg(info, 1);
  if (g) {
    // The checks of Python's `x.grad = g` setter.
    TORCH_CHECK(t.scalar_type() == g->scalar_type(), "attempting to assign a gradient of dtype '", g->scalar_type(),
                "' to a tensor of dtype '", t.scalar_type(), "'. Please ensure that the gradient and the tensor have the same dtype");
    TORCH_CHECK(t.device() == g->device(), "attempting to assign a gradient located on device with index '", g->device(),
                "' to a tensor located on device with index '", t.device(), "'. Please ensure that the gradient and the tensor are on the same device");
    TORCH_CHECK(t.sizes().equals(g->sizes()), "attempting to assign a gradient of size '", g->sizes(), "' to a tensor of size '",
                t.sizes(), "'. Please ensure that the gradient and the tensor are the same size");
  }
  t.mutable_grad() = g.value_or(at::Tensor());
  return info.Env().Undefined();
}

Napi::Value requiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tensorArg(info, 0).requires_grad());
}

Napi::Value setRequiresGrad(const Napi::CallbackInfo& info) {
  at::Tensor t = tensorArg(info, 0);
  t.requires_grad_(boolArg(info, 1, "requiresGrad"));
  return info.Env().Undefined();
}

Napi::Value isLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tensorArg(info, 0).is_leaf());
}

Napi::Value gradFn(const Napi::CallbackInfo& info) {
  const auto& fn = tensorArg(info, 0).grad_fn();
  if (!fn) return info.Env().Null();
  return Napi::String::New(info.Env(), fn->name());
}

Napi::Value retainGrad(const Napi::CallbackInfo& info) {
  tensorArg(info, 0).retain_grad();
  return info.Env().Undefined();
}

// setGradEnabled(bool) -> previous state
Napi::Value setGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(boolArg(info, 0, "enabled"));
  return Napi::Boolean::New(info.Env(), prev);
}

Napi::Value isGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}

// autogradGrad(outputs, inputs, gradOutputs?, retainGraph, createGraph, allowUnused) -> (Tensor|null)[]
Napi::Value autogradGrad(const Napi::CallbackInfo& info) {
  auto outputs = tensorListArg(info, 0, "outputs");
  auto inputs = tensorListArg(info, 1, "inputs");
  std::vector<at::Tensor> gradOutputs;
  if (!isMissing(info, 2)) gradOutputs = tensorListArg(info, 2, "gradOutputs");
  c10::optional<bool> retain;
  if (!isMissing(info, 3)) retain = boolArg(info, 3, "retainGraph");
  bool create = !isMissing(info, 4) && boolArg(info, 4, "createGraph");
  bool allowUnused = !isMissing(info, 5) && boolArg(info, 5, "allowUnused");
  std::vector<at::Tensor> grads;
  runBackward(info.Env(), [&] { grads = torch::autograd::grad(outputs, inputs, gradOutputs, retain, create, allowUnused); });
  Napi::Env env = info.Env();
  auto arr = Napi::Array::New(env, grads.size());
  for (size_t k = 0; k < grads.size(); k++)
    arr.Set(static_cast<uint32_t>(k), grads[k].defined() ? wrap(env, grads[k]) : env.Null());
  return arr;
}

// ---- automatic mixed precision ------------------------------------------------------------------------------
// Autocast is libtorch's thread-local dispatcher state, so setting it here covers every op JS runs on this thread
// (libtorch modules, TorchScript, functional ops), exactly as Python's `with torch.autocast(...)` does.

at::DeviceType autocastDeviceArg(const Napi::CallbackInfo& info, size_t i) {
  const int32_t code = intArg(info, i, "device type");
  if (code == 0) return at::kCPU;
  if (code == 1) return at::kCUDA;
  throwRange("autocast device type must be 'cpu' or 'cuda'");
}

Napi::Value autocastTriple(Napi::Env env, bool enabled, at::ScalarType dtype, bool cache) {
  auto out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Boolean::New(env, enabled));
  out.Set(1u, Napi::Number::New(env, static_cast<int>(dtype)));
  out.Set(2u, Napi::Boolean::New(env, cache));
  return out;
}

// autocastState(type) -> [enabled, dtype code, cache enabled]
Napi::Value autocastState(const Napi::CallbackInfo& info) {
  const auto type = autocastDeviceArg(info, 0);
  return autocastTriple(info.Env(), at::autocast::is_autocast_enabled(type), at::autocast::get_autocast_dtype(type),
                        at::autocast::is_autocast_cache_enabled());
}

// autocastEnter(type, enabled, dtype, cacheEnabled) -> the previous [enabled, dtype, cache] (torch.autocast.__enter__)
Napi::Value autocastEnter(const Napi::CallbackInfo& info) {
  const auto type = autocastDeviceArg(info, 0);
  const bool enabled = boolArg(info, 1, "enabled");
  const auto dtype = dtypeArg(info, 2);
  const bool cache = boolArg(info, 3, "cacheEnabled");
  auto prev = autocastTriple(info.Env(), at::autocast::is_autocast_enabled(type), at::autocast::get_autocast_dtype(type),
                             at::autocast::is_autocast_cache_enabled());
  at::autocast::set_autocast_enabled(type, enabled);
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::increment_nesting();
  at::autocast::set_autocast_cache_enabled(cache);
  return prev;
}

// autocastExit(type, prevEnabled, prevDtype, prevCache): torch.autocast.__exit__ (the cast-weight cache is cleared
// when the outermost region ends).
Napi::Value autocastExit(const Napi::CallbackInfo& info) {
  const auto type = autocastDeviceArg(info, 0);
  const bool enabled = boolArg(info, 1, "enabled");
  const auto dtype = dtypeArg(info, 2);
  const bool cache = boolArg(info, 3, "cacheEnabled");
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(type, enabled);
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::set_autocast_cache_enabled(cache);
  return info.Env().Undefined();
}

// ampUnscale(grads, foundInf, invScale): grads *= invScale in place; foundInf = 1 where any is inf/NaN.
Napi::Value ampUnscale(const Napi::CallbackInfo& info) {
  auto grads = tensorListArg(info, 0, "grads");
  at::Tensor foundInf = tensorArg(info, 1);
  at::Tensor invScale = tensorArg(info, 2);
  c10::NoGradGuard noGrad;
  at::_amp_foreach_non_finite_check_and_unscale_(grads, foundInf, invScale);
  return info.Env().Undefined();
}

// ampUpdateScale(scale, growthTracker, foundInf, growthFactor, backoffFactor, growthInterval): GradScaler.update's kernel.
Napi::Value ampUpdateScale(const Napi::CallbackInfo& info) {
  at::Tensor scale = tensorArg(info, 0);
  at::Tensor tracker = tensorArg(info, 1);
  const at::Tensor& foundInf = tensorArg(info, 2);
  c10::NoGradGuard noGrad;
  at::_amp_update_scale_(scale, tracker, foundInf, doubleArg(info, 3, "growthFactor"), doubleArg(info, 4, "backoffFactor"),
                         int64Arg(info, 5, "growthInterval"));
  return info.Env().Undefined();
}

}  // namespace

void initAutograd(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "backward", backward);
  exportGuarded(env, exports, "grad", grad);
  exportGuarded(env, exports, "setGrad", setGrad);
  exportGuarded(env, exports, "requiresGrad", requiresGrad);
  exportGuarded(env, exports, "setRequiresGrad", setRequiresGrad);
  exportGuarded(env, exports, "isLeaf", isLeaf);
  exportGuarded(env, exports, "gradFn", gradFn);
  exportGuarded(env, exports, "retainGrad", retainGrad);
  exportGuarded(env, exports, "setGradEnabled", setGradEnabled);
  exportGuarded(env, exports, "isGradEnabled", isGradEnabled);
  exportGuarded(env, exports, "autogradGrad", autogradGrad);
  exportGuarded(env, exports, "autocastState", autocastState);
  exportGuarded(env, exports, "autocastEnter", autocastEnter);
  exportGuarded(env, exports, "autocastExit", autocastExit);
  exportGuarded(env, exports, "ampUnscale", ampUnscale);
  exportGuarded(env, exports, "ampUpdateScale", ampUpdateScale);
}

}  // namespace torchkd
