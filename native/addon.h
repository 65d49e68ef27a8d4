// Per-environment state of the addon and the helpers every binding file uses.
//
// All native state lives in one Addon per Node environment (napi instance data): no statics, so worker threads each
// get their own tables. JS sees tensors and modules as small integer handles into those tables; the JS wrapper
// objects are plain classes, which keeps the per-op cost of crossing the boundary low.
#pragma once

// Experimental N-API: finalizers that only free native memory run synchronously inside V8's GC (Node >= 20.x),
// so tensors dropped in a long synchronous training loop are freed without waiting for the event loop.
#ifndef NAPI_EXPERIMENTAL
#define NAPI_EXPERIMENTAL
#endif
#include <napi.h>
#include <ATen/ATen.h>
#include <torch/version.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace torchkd {

// Argument errors raised while reading JS values; the guard turns them into TypeError / RangeError.
struct ArgError {
  enum Kind { Type, Range } kind;
  std::string message;
};

[[noreturn]] void throwType(const std::string& message);
[[noreturn]] void throwRange(const std::string& message);

// Live tensors referenced from JS, with the bytes of the distinct storages they hold, per device.
//
// A handle is a JS number: slot + generation·2^24. The generation changes each time a slot is freed, so a stale
// handle (a disposed tensor, or a finalizer running after the slot was reused) is recognised, never misread.
class TensorTable {
 public:
  static constexpr double kSlotSpan = 16777216.0;  // 2^24 slots
  double insert(at::Tensor t);
  // Frees the slot if `handle` is still current; returns false for stale handles.
  bool release(double handle);
  const at::Tensor& get(double handle) const;
  int64_t live() const { return live_; }
  // Bytes of the distinct storages held by live handles, per device key (-1 for CPU, N for cuda:N). Computed on
  // demand (a walk over live handles), so the per-op path carries no hash map.
  std::unordered_map<int, int64_t> bytesByDevice() const;
  // Bytes accounted but not yet reported to V8 (napi_adjust_external_memory). A large storage (>= kLargeBytes) counts
  // once however many handles hold it, so views and detach() of a big tensor add nothing: V8 would otherwise see
  // hundreds of MB "allocated" per view and run a full collection for them (4-5 ms a step measured on a KD loss
  // benchmark here). Small storages count per handle (no map on the per-op path).
  int64_t pendingExternal() const { return pending_; }
  int64_t takePendingExternal();
  // All bytes accounted for V8 so far, reported or pending (for tests: memory().externalBytes).
  int64_t accountedExternal() const { return reported_ + pending_; }
  // Tensors made inside a `tidy` scope are freed by the scope, not by the garbage collector, so their bytes are not
  // reported to V8 while the scope is open (a training step's activations would otherwise push V8 into full
  // collections every step); one that leaves the outermost scope (returned or kept) is accounted then (account()).
  void enterScope() { scopeDepth_++; }
  void exitScope() { scopeDepth_ = scopeDepth_ > 0 ? scopeDepth_ - 1 : 0; }
  // Accounts a tensor made inside a scope that outlives it; a no-op for one already accounted or a stale handle.
  void account(double handle);

 private:
  struct Slot {
    at::Tensor tensor;
    uint32_t generation = 0;
    int64_t reported = 0;             // small storages: bytes reported to V8 for this handle
    const void* largeKey = nullptr;   // large storages: the storage, reported once for all its handles
    bool deferred = false;            // made inside a tidy scope: nothing reported (see enterScope)
  };
  struct LargeStorage {
    int32_t handles = 0;
    int64_t bytes = 0;  // as reported when its first handle was made
  };
  bool decode(double handle, uint32_t* slot) const;
  void accountSlot(Slot& slot);
  std::vector<Slot> slots_;
  std::vector<int32_t> free_;
  std::unordered_map<const void*, LargeStorage> large_;
  int64_t live_ = 0;
  int64_t pending_ = 0;
  int64_t reported_ = 0;
  int32_t scopeDepth_ = 0;
};

struct NativeModule;  // module.h
struct DistState;     // distributed/dist.h

struct Addon {
  // Shared with GC finalizers, which may outlive the Addon at environment teardown.
  std::shared_ptr<TensorTable> table = std::make_shared<TensorTable>();
  TensorTable& tensors = *table;
  std::vector<std::shared_ptr<NativeModule>> modules;
  std::vector<int32_t> freeModules;
  Napi::FunctionReference torchError;  // the JS TorchError class, set at start-up by lib/binding.ts
  // Errors go back to JS as a return value, not thrown from native code (errors.cc says why): a failed call returns
  // errorSentinel and leaves its error in pendingError, which lib/binding.ts takes (takeError) and throws.
  Napi::ObjectReference errorSentinel;
  Napi::ObjectReference pendingError;
  // An exception a JS backward hook threw (hooks.cc), rethrown as itself when backward() returns.
  Napi::Reference<Napi::Value> pendingHookError;
  // torch.distributed: stores and process groups (distributed/dist.h); made on first use.
  std::shared_ptr<DistState> dist;
};

Addon& addon(Napi::Env env);

// ---- reading arguments -------------------------------------------------------------------------------------------
const at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i);
int32_t intArg(const Napi::CallbackInfo& info, size_t i, const char* what);
int64_t int64Arg(const Napi::CallbackInfo& info, size_t i, const char* what);
double doubleArg(const Napi::CallbackInfo& info, size_t i, const char* what);
bool boolArg(const Napi::CallbackInfo& info, size_t i, const char* what);
std::string stringArg(const Napi::CallbackInfo& info, size_t i, const char* what);
std::vector<int64_t> int64ListArg(const Napi::CallbackInfo& info, size_t i, const char* what);
std::vector<at::Tensor> tensorListArg(const Napi::CallbackInfo& info, size_t i, const char* what);
at::ScalarType dtypeArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<at::ScalarType> optionalDtypeArg(const Napi::CallbackInfo& info, size_t i);
at::Device deviceArg(const Napi::CallbackInfo& info, size_t i);
// A memory-format code (lib/dtype.ts memoryFormatCode): 0 contiguous, 1 channels-last, 2 channels-last 3-d, 3 preserve.
at::MemoryFormat memoryFormatArg(const Napi::CallbackInfo& info, size_t i);
// A JS number becomes an integral Scalar when it holds an integer (so int tensors stay int, as in Python).
at::Scalar scalarArg(const Napi::CallbackInfo& info, size_t i, const char* what);
bool isMissing(const Napi::CallbackInfo& info, size_t i);
c10::optional<at::Tensor> optionalTensorArg(const Napi::CallbackInfo& info, size_t i);
// Optional values: JS null/undefined read as nullopt.
c10::optional<at::Scalar> optionalScalarArg(const Napi::CallbackInfo& info, size_t i, const char* what);
c10::optional<int64_t> optionalInt64Arg(const Napi::CallbackInfo& info, size_t i, const char* what);
c10::optional<double> optionalDoubleArg(const Napi::CallbackInfo& info, size_t i, const char* what);
c10::optional<bool> optionalBoolArg(const Napi::CallbackInfo& info, size_t i, const char* what);
c10::optional<std::string> optionalStringArg(const Napi::CallbackInfo& info, size_t i, const char* what);
c10::optional<std::vector<int64_t>> optionalInt64ListArg(const Napi::CallbackInfo& info, size_t i, const char* what);
c10::optional<std::vector<double>> optionalDoubleListArg(const Napi::CallbackInfo& info, size_t i, const char* what);

// ---- returning values --------------------------------------------------------------------------------------------
// A new tensor goes to JS as its handle, negated (-handle - 1) when it holds >= kLargeBytes: lib/tensor.ts tracks
// large tensors one by one for the garbage collector and small ones in groups (see the comment there).
constexpr int64_t kLargeBytes = 16384;
Napi::Value wrap(const Napi::CallbackInfo& info, at::Tensor t);
Napi::Value wrapList(const Napi::CallbackInfo& info, const std::vector<at::Tensor>& ts);
Napi::Value wrap(Napi::Env env, at::Tensor t);
int deviceCode(const at::Device& d);

// ---- registering exports ----------------------------------------------------------------------------------------
using Binding = Napi::Value (*)(const Napi::CallbackInfo&);
// Every export goes through one guard: libtorch errors become TorchError, argument errors TypeError/RangeError.
void exportGuarded(Napi::Env env, Napi::Object exports, const char* name, Binding fn);
Napi::Value guardCall(const Napi::CallbackInfo& info, Binding fn);
// The JS error for a caught exception, classified as guardCall does (TorchError with its code, TypeError,
// RangeError...); for failures that reach JS other than as a call's result (a rejected Promise).
Napi::Value errorValue(Napi::Env env, std::exception_ptr failure);

// Registration functions, one per binding file.
void initTensor(Napi::Env env, Napi::Object exports);
// The op functions generated from the op specification (native/generated/, scripts/codegen/).
void initGeneratedOps(Napi::Env env, Napi::Object exports);
void initAutograd(Napi::Env env, Napi::Object exports);
void initModule(Napi::Env env, Napi::Object exports);
void initOptim(Napi::Env env, Napi::Object exports);
void initKd(Napi::Env env, Napi::Object exports);
void initCuda(Napi::Env env, Napi::Object exports);
void initHooks(Napi::Env env, Napi::Object exports);
void initSignals(Napi::Env env, Napi::Object exports);
void initDistributed(Napi::Env env, Napi::Object exports);
void initCollectives(Napi::Env env, Napi::Object exports);
void initReducer(Napi::Env env, Napi::Object exports);
void initCpuAllocator(Napi::Env env, Napi::Object exports);
// Deletes the JS references of freed backward-hook nodes (hooks.cc); call on the JS thread.
void drainHookReferences(Napi::Env env);

}  // namespace torchkd
