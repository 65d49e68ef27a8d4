// Autograd: backward, .grad, requires_grad, and the grad-mode switch behind noGrad()/enableGrad().
#include "addon.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>

namespace torchkd {
namespace {

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
  t.backward(grad.value_or(at::Tensor()), retain, create);
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
  auto grads = torch::autograd::grad(outputs, inputs, gradOutputs, retain, create, allowUnused);
  Napi::Env env = info.Env();
  auto arr = Napi::Array::New(env, grads.size());
  for (size_t k = 0; k < grads.size(); k++)
    arr.Set(static_cast<uint32_t>(k), grads[k].defined() ? wrap(env, grads[k]) : env.Null());
  return arr;
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
}

}  // namespace torchkd
