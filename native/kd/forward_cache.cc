// The distillation core's forward: teacher (without autograd unless it is being trained), then student, then a
// graph-keeping clone of the student logits for the KD loss — one call from JS when both models are native.
//
// Either model may instead be a JS callable (an adapter made by lib/distiller/knowledge-distillation.ts that runs a
// TypeScript module on the current inputs and returns its output's handle); it is called synchronously on this
// thread, so the grad mode set here applies to the ops it runs.
#include "addon.h"
#include "module.h"

#include <c10/core/GradMode.h>

namespace torchkd {
namespace {

at::Tensor runModel(const Napi::CallbackInfo& info, size_t at, const std::vector<at::Tensor>& inputs, const char* who) {
  if (info[at].IsFunction()) {
    Napi::Value out = info[at].As<Napi::Function>().Call({});
    if (!out.IsNumber()) throwType(std::string("the ") + who + " model must return a Tensor");
    return addon(info.Env()).tensors.get(out.As<Napi::Number>().DoubleValue());
  }
  return moduleArg(info, at).forward(inputs);
}

// kdForward(teacher, student, inputs[], teacherWithGrad) -> [studentOut, teacherLogits, studentLogitsClone]
Napi::Value kdForward(const Napi::CallbackInfo& info) {
  auto inputs = tensorListArg(info, 2, "inputs");
  bool teacherWithGrad = boolArg(info, 3, "teacherWithGrad");
  at::Tensor teacherOut;
  {
    // Teacher weight 0: its logits are a constant target, so no graph is recorded (Distiller's torch.no_grad()).
    c10::optional<c10::NoGradGuard> noGrad;
    if (!teacherWithGrad) noGrad.emplace();
    teacherOut = runModel(info, 0, inputs, "teacher");
  }
  at::Tensor studentOut = runModel(info, 1, inputs, "student");
  // The clone stays in the autograd graph, so the KD loss computed from it reaches the student's parameters.
  at::Tensor studentClone = studentOut.clone();
  return wrapList(info, {studentOut, teacherOut, studentClone});
}

}  // namespace

void initKdForward(Napi::Env env, Napi::Object exports) { exportGuarded(env, exports, "kdForward", kdForward); }

}  // namespace torchkd
