// torch.distributed over libtorch's c10d: the state shared by the distributed binding files (process_group.cc,
// collectives.cc, reducer.cc).
//
// Stores and process groups are kept in per-environment tables and reach JS as integer handles; the JS side
// (lib/distributed/) does Python's bookkeeping (group names, store prefixes, rank maps) and calls down with them.
// Works (in-flight collectives) reach JS as external objects.
//
// Built only against a libtorch with c10d (TORCHKD_DISTRIBUTED); the Gloo backend needs USE_C10D_GLOO (libtorch
// built with Gloo), NCCL USE_C10D_NCCL (CUDA wheels).
#pragma once

#include "addon.h"

#ifdef TORCHKD_DISTRIBUTED
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#endif

#include <chrono>
#include <memory>
#include <vector>

namespace torchkd {

#ifdef TORCHKD_DISTRIBUTED

struct DistState {
  std::vector<c10::intrusive_ptr<c10d::Store>> stores;
  std::vector<c10::intrusive_ptr<c10d::ProcessGroup>> groups;
  // Process groups and stores still alive when the environment is torn down are deliberately leaked: destroying a
  // group waits for its queued collectives, which a dead or stalled peer would turn into a hang at exit.
  ~DistState();
};

DistState& distState(Napi::Env env);
const c10::intrusive_ptr<c10d::Store>& storeArg(const Napi::CallbackInfo& info, size_t i);
const c10::intrusive_ptr<c10d::ProcessGroup>& groupArg(const Napi::CallbackInfo& info, size_t i);
// A JS number of milliseconds (> 0) as a duration.
std::chrono::milliseconds millisArg(const Napi::CallbackInfo& info, size_t i, const char* what);

// A work handle for JS: `wait()` off the JS thread as a Promise, `isCompleted()`, `sourceRank()` (recv from any).
Napi::Value wrapWork(Napi::Env env, c10::intrusive_ptr<c10d::Work> work);
// The collectives' common ending: the work as a handle when `async`, else waited for here (blocking, as Python does).
Napi::Value finishWork(const Napi::CallbackInfo& info, c10::intrusive_ptr<c10d::Work> work, bool async);

#endif

}  // namespace torchkd
