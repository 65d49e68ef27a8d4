// Module backward hooks (nn.Module.register_full_backward_hook): an identity autograd function around a module's
// tensor inputs (and outputs) whose backward calls a JavaScript function with the incoming gradients, as PyTorch's
// BackwardHookFunction does.
//
// The JS function can only be called on the thread that runs JavaScript. libtorch's autograd engine runs CPU work on
// the thread that called backward() (here: the JS thread, inside N.backward), so CPU hooks run in place; CUDA work
// runs on the engine's device threads, where the hook reports a clear error instead.
//
// The JS function's reference belongs to the autograd node, which may be freed anywhere — also inside V8's garbage
// collector (a freed tensor frees its graph), where no N-API call is allowed. Freed references are therefore queued
// and deleted at the next hook set-up or backward call on the JS thread.
#include "addon.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <mutex>
#include <thread>

namespace torchkd {
namespace {

std::mutex deadMutex;
std::vector<std::pair<napi_env, napi_ref>> deadRefs;

struct JsHook : torch::CustomClassHolder {
  napi_env env;
  napi_ref fn = nullptr;
  std::thread::id thread = std::this_thread::get_id();

  JsHook(napi_env e, napi_value f) : env(e) { napi_create_reference(e, f, 1, &fn); }
  ~JsHook() override {
    std::lock_guard<std::mutex> lock(deadMutex);
    deadRefs.emplace_back(env, fn);
  }

  // Calls the JS function with the gradients (handles, or null where undefined); it returns undefined (keep them)
  // or an array of replacements.
  torch::autograd::variable_list call(const torch::autograd::variable_list& grads) {
    TORCH_CHECK(std::this_thread::get_id() == thread,
                "module backward hooks run for CPU tensors only: libtorch runs this backward pass (CUDA) on its own "
                "threads, which cannot call JavaScript");
    Napi::Env e(env);
    Napi::HandleScope scope(e);
    Napi::Array arr = Napi::Array::New(e, grads.size());
    for (size_t k = 0; k < grads.size(); k++) arr.Set(static_cast<uint32_t>(k), grads[k].defined() ? wrap(e, grads[k]) : e.Null());
    napi_value fnValue;
    napi_get_reference_value(env, fn, &fnValue);
    Napi::Value out;
    try {
      out = Napi::Function(e, fnValue).Call({arr});
    } catch (const Napi::Error& err) {
      // The JS error is rethrown as itself once backward() returns (autograd.cc); the engine sees a c10 error.
      addon(e).pendingHookError = Napi::Persistent(static_cast<Napi::Value>(err.Value()));
      TORCH_CHECK(false, "an exception was raised in a module backward hook");
    }
    if (out.IsUndefined() || out.IsNull()) return grads;
    TORCH_CHECK(out.IsArray(), "a backward hook must return undefined or an array of gradients");
    Napi::Array r = out.As<Napi::Array>();
    TORCH_CHECK(r.Length() == grads.size(), "a backward hook returned ", r.Length(), " gradients, expected ", grads.size());
    torch::autograd::variable_list result(grads.size());
    auto& table = addon(e).tensors;
    for (uint32_t k = 0; k < r.Length(); k++) {
      Napi::Value v = r.Get(k);
      if (v.IsNull() || v.IsUndefined()) continue;
      TORCH_CHECK(v.IsNumber(), "a backward hook must return tensors (or null)");
      result[k] = table.get(v.As<Napi::Number>().DoubleValue());
    }
    return result;
  }
};

struct JsHookFunction : public torch::autograd::Function<JsHookFunction> {
  // The tensors arrive as a TensorList: the custom-function machinery counts a TensorList's tensors as inputs (a
  // std::vector would be one opaque argument, and the outputs would not be recorded).
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, at::TensorList inputs,
                                                c10::intrusive_ptr<JsHook> hook, bool materializeGrads) {
    // Without materialisation an output that gets no gradient stays undefined (PyTorch's hooks see None for it).
    ctx->set_materialize_grads(materializeGrads);
    torch::autograd::variable_list constant;
    for (const auto& t : inputs)
      if (!t.requires_grad()) constant.push_back(t);
    ctx->mark_non_differentiable(constant);
    ctx->saved_data["hook"] = c10::IValue::make_capsule(hook);
    return inputs.vec();
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto hook = c10::static_intrusive_pointer_cast<JsHook>(ctx->saved_data["hook"].toCapsule());
    auto out = hook->call(grads);
    out.emplace_back();  // no gradient for the hook argument
    out.emplace_back();  // nor for the flag
    return out;
  }
};

// backwardHookIdentity(handles[], fn, materializeGrads) -> handles[]: the same tensors as autograd identities whose
// backward calls fn.
Napi::Value backwardHookIdentity(const Napi::CallbackInfo& info) {
  drainHookReferences(info.Env());
  auto inputs = tensorListArg(info, 0, "tensors");
  if (!info[1].IsFunction()) throwType("backwardHookIdentity expects a function");
  const bool materialize = boolArg(info, 2, "materializeGrads");
  auto hook = c10::make_intrusive<JsHook>(info.Env(), info[1]);
  auto outs = JsHookFunction::apply(at::TensorList(inputs), hook, materialize);
  return wrapList(info, outs);
}

}  // namespace

void drainHookReferences(Napi::Env env) {
  std::vector<std::pair<napi_env, napi_ref>> mine;
  {
    std::lock_guard<std::mutex> lock(deadMutex);
    auto it = std::partition(deadRefs.begin(), deadRefs.end(), [&](const auto& p) { return p.first != static_cast<napi_env>(env); });
    mine.assign(it, deadRefs.end());
    deadRefs.erase(it, deadRefs.end());
  }
  for (auto& [e, ref] : mine) napi_delete_reference(e, ref);
}

void initHooks(Napi::Env env, Napi::Object exports) { exportGuarded(env, exports, "backwardHookIdentity", backwardHookIdentity); }

}  // namespace torchkd
