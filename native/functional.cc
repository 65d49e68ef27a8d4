// torch.nn.functional: activations, losses and the layer primitives the nn modules are built from.
//
// Each function calls the same ATen op that Python's torch.nn.functional calls, with the same argument handling,
// so results are bit-identical to PyTorch on the same libtorch.
#include "addon.h"

namespace torchkd {
namespace {

// 'none' | 'mean' | 'sum' arrive as at::Reduction codes (0, 1, 2); 'batchmean' as 3 (kl_div only).
int64_t reductionArg(const Napi::CallbackInfo& info, size_t i) {
  int32_t r = intArg(info, i, "reduction");
  if (r < 0 || r > 3) throwRange("reduction must be 'none', 'mean', 'sum' or 'batchmean'");
  return r;
}

Napi::Value leakyRelu(const Napi::CallbackInfo& info) {
  return wrap(info, at::leaky_relu(tensorArg(info, 0), scalarArg(info, 1, "negativeSlope")));
}

Napi::Value gelu(const Napi::CallbackInfo& info) {
  std::string approx = isMissing(info, 1) ? "none" : stringArg(info, 1, "approximate");
  if (approx != "none" && approx != "tanh") throwRange("gelu: approximate must be 'none' or 'tanh'");
  return wrap(info, at::gelu(tensorArg(info, 0), approx));
}

// klDiv(input, target, reduction, logTarget) — batchmean is sum / size(0), exactly as F.kl_div does it.
Napi::Value klDiv(const Napi::CallbackInfo& info) {
  const auto& input = tensorArg(info, 0);
  const auto& target = tensorArg(info, 1);
  int64_t r = reductionArg(info, 2);
  bool logTarget = boolArg(info, 3, "logTarget");
  if (r == 3) {
    at::Tensor s = at::kl_div(input, target, at::Reduction::Sum, logTarget);
    return wrap(info, input.dim() != 0 ? s / input.size(0) : s);
  }
  return wrap(info, at::kl_div(input, target, r, logTarget));
}

// crossEntropy(input, target, weight?, reduction, ignoreIndex, labelSmoothing)
Napi::Value crossEntropy(const Napi::CallbackInfo& info) {
  int64_t r = reductionArg(info, 3);
  if (r == 3) throwRange("crossEntropy: reduction must be 'none', 'mean' or 'sum'");
  double smoothing = doubleArg(info, 5, "labelSmoothing");
  if (!(smoothing >= 0.0 && smoothing <= 1.0)) throwRange("crossEntropy: labelSmoothing must be in [0, 1]");
  return wrap(info, at::cross_entropy_loss(tensorArg(info, 0), tensorArg(info, 1), optionalTensorArg(info, 2), r,
                                           int64Arg(info, 4, "ignoreIndex"), smoothing));
}

// nllLoss(input, target, weight?, reduction, ignoreIndex)
Napi::Value nllLoss(const Napi::CallbackInfo& info) {
  int64_t r = reductionArg(info, 3);
  if (r == 3) throwRange("nllLoss: reduction must be 'none', 'mean' or 'sum'");
  return wrap(info, at::nll_loss_nd(tensorArg(info, 0), tensorArg(info, 1), optionalTensorArg(info, 2), r,
                                    int64Arg(info, 4, "ignoreIndex")));
}

// pointLoss(kind, input, target, reduction): 0 mse, 1 l1, 2 smooth_l1 (beta at 4), 3 binary_cross_entropy
Napi::Value pointLoss(const Napi::CallbackInfo& info) {
  int kind = intArg(info, 0, "kind");
  const auto& input = tensorArg(info, 1);
  const auto& target = tensorArg(info, 2);
  int64_t r = reductionArg(info, 3);
  if (r == 3) throwRange("reduction must be 'none', 'mean' or 'sum'");
  // Python broadcasts input and target first (with a warning when shapes differ).
  auto bt = at::broadcast_tensors({input, target});
  switch (kind) {
    case 0: return wrap(info, at::mse_loss(bt[0], bt[1], r));
    case 1: return wrap(info, at::l1_loss(bt[0], bt[1], r));
    case 2: return wrap(info, at::smooth_l1_loss(bt[0], bt[1], r, doubleArg(info, 4, "beta")));
    case 3: return wrap(info, at::binary_cross_entropy(input, target, optionalTensorArg(info, 4), r));
    default: throwRange("unknown loss");
  }
}

// bceWithLogits(input, target, weight?, posWeight?, reduction)
Napi::Value bceWithLogits(const Napi::CallbackInfo& info) {
  int64_t r = reductionArg(info, 4);
  if (r == 3) throwRange("reduction must be 'none', 'mean' or 'sum'");
  return wrap(info, at::binary_cross_entropy_with_logits(tensorArg(info, 0), tensorArg(info, 1), optionalTensorArg(info, 2),
                                                         optionalTensorArg(info, 3), r));
}

Napi::Value dropout(const Napi::CallbackInfo& info) {
  double p = doubleArg(info, 1, "p");
  if (!(p >= 0.0 && p <= 1.0)) throwRange("dropout probability has to be between 0 and 1, but got " + std::to_string(p));
  return wrap(info, at::dropout(tensorArg(info, 0), p, boolArg(info, 2, "training")));
}

Napi::Value linear(const Napi::CallbackInfo& info) {
  return wrap(info, at::linear(tensorArg(info, 0), tensorArg(info, 1), optionalTensorArg(info, 2)));
}

// conv2d(x, w, b?, stride[2], padding[2], dilation[2], groups)
Napi::Value conv2d(const Napi::CallbackInfo& info) {
  return wrap(info, at::conv2d(tensorArg(info, 0), tensorArg(info, 1), optionalTensorArg(info, 2),
                               int64ListArg(info, 3, "stride"), int64ListArg(info, 4, "padding"),
                               int64ListArg(info, 5, "dilation"), int64Arg(info, 6, "groups")));
}

// maxPool2d(x, kernel[2], stride[2], padding[2], dilation[2], ceilMode)
Napi::Value maxPool2d(const Napi::CallbackInfo& info) {
  return wrap(info, at::max_pool2d(tensorArg(info, 0), int64ListArg(info, 1, "kernelSize"), int64ListArg(info, 2, "stride"),
                                   int64ListArg(info, 3, "padding"), int64ListArg(info, 4, "dilation"),
                                   boolArg(info, 5, "ceilMode")));
}

// avgPool2d(x, kernel[2], stride[2], padding[2], ceilMode, countIncludePad, divisorOverride?)
Napi::Value avgPool2d(const Napi::CallbackInfo& info) {
  c10::optional<int64_t> divisor;
  if (!isMissing(info, 6)) divisor = int64Arg(info, 6, "divisorOverride");
  return wrap(info, at::avg_pool2d(tensorArg(info, 0), int64ListArg(info, 1, "kernelSize"), int64ListArg(info, 2, "stride"),
                                   int64ListArg(info, 3, "padding"), boolArg(info, 4, "ceilMode"),
                                   boolArg(info, 5, "countIncludePad"), divisor));
}

Napi::Value adaptiveAvgPool2d(const Napi::CallbackInfo& info) {
  return wrap(info, at::adaptive_avg_pool2d(tensorArg(info, 0), int64ListArg(info, 1, "outputSize")));
}

// batchNorm(x, runningMean?, runningVar?, weight?, bias?, training, momentum, eps)
Napi::Value batchNorm(const Napi::CallbackInfo& info) {
  return wrap(info, at::batch_norm(tensorArg(info, 0), optionalTensorArg(info, 3), optionalTensorArg(info, 4),
                                   optionalTensorArg(info, 1), optionalTensorArg(info, 2), boolArg(info, 5, "training"),
                                   doubleArg(info, 6, "momentum"), doubleArg(info, 7, "eps"), at::globalContext().userEnabledCuDNN()));
}

// pad(x, pads[], value): F.pad with mode 'constant' (pads from the last dim backwards, as PyTorch).
Napi::Value pad(const Napi::CallbackInfo& info) {
  auto pads = int64ListArg(info, 1, "pad");
  if (pads.size() % 2 != 0) throwRange("pad: padding length must be divisible by 2");
  return wrap(info, at::constant_pad_nd(tensorArg(info, 0), pads, scalarArg(info, 2, "value")));
}

}  // namespace

void initFunctional(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "leakyRelu", leakyRelu);
  exportGuarded(env, exports, "gelu", gelu);
  exportGuarded(env, exports, "klDiv", klDiv);
  exportGuarded(env, exports, "crossEntropy", crossEntropy);
  exportGuarded(env, exports, "nllLoss", nllLoss);
  exportGuarded(env, exports, "pointLoss", pointLoss);
  exportGuarded(env, exports, "bceWithLogits", bceWithLogits);
  exportGuarded(env, exports, "dropout", dropout);
  exportGuarded(env, exports, "linear", linear);
  exportGuarded(env, exports, "conv2d", conv2d);
  exportGuarded(env, exports, "maxPool2d", maxPool2d);
  exportGuarded(env, exports, "avgPool2d", avgPool2d);
  exportGuarded(env, exports, "adaptiveAvgPool2d", adaptiveAvgPool2d);
  exportGuarded(env, exports, "batchNorm", batchNorm);
  exportGuarded(env, exports, "pad", pad);
}

}  // namespace torchkd
