// Native modules: libtorch C++-frontend layers (and Sequential containers of them) and TorchScript modules.
//
// A native module's forward runs entirely in C++, which is what lets the distillation core run teacher and student
// in one call. Layers use the C++ frontend, whose parameter names, default initialisation and RNG use match
// Python's torch.nn (checked by test/05-nn.test.ts against fixtures from PyTorch).
#pragma once

#include "addon.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/script.h>

namespace torchkd {

struct NativeModule {
  // Exactly one of the two is set.
  std::shared_ptr<torch::nn::Module> frontend;
  torch::nn::AnyModule any;  // the frontend module, callable with one tensor
  c10::optional<torch::jit::Module> script;
  std::string kind;

  at::Tensor forward(const std::vector<at::Tensor>& inputs);
  void train(bool on);
  bool training() const;
  std::vector<std::pair<std::string, at::Tensor>> parameters(bool recurse) const;
  std::vector<std::pair<std::string, at::Tensor>> buffers(bool recurse) const;
};

// The module behind a JS handle (TypeError when it was released).
NativeModule& moduleArg(const Napi::CallbackInfo& info, size_t i);

}  // namespace torchkd
