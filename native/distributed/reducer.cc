// DistributedDataParallel's native half: libtorch's c10d::Reducer (the engine inside Python's DDP) and the helpers
// Python's DDP constructor calls (_verify_params_across_processes, _broadcast_coalesced,
// _compute_bucket_assignment_by_size). lib/nn/parallel/distributed.ts drives them in Python's order.
//
// The Reducer registers hooks on the parameters' gradient accumulators: during backward() each ready gradient is
// copied into its bucket, and a full bucket is averaged across ranks on the process group's threads while the rest
// of the backward pass runs; the end-of-backward callback waits for the buckets and writes the averaged gradients
// back. For CPU parameters all of it runs inside the caller's backward() call.
#include "distributed/dist.h"

#ifdef TORCHKD_DISTRIBUTED
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/logger.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <type_traits>
#endif

namespace torchkd {

#ifdef TORCHKD_DISTRIBUTED

namespace {

struct ReducerRef {
  std::shared_ptr<c10d::Reducer> reducer;
  // The reducer reports through a Logger it holds weakly (Python's DDP keeps it as self.logger); unused-parameter
  // search dereferences it, so it lives as long as the reducer.
  std::shared_ptr<c10d::Logger> logger;
};

c10d::Reducer& reducerArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsExternal()) throwType("expected a reducer handle");
  auto* r = info[i].As<Napi::External<ReducerRef>>().Data();
  if (!r->reducer) throwType("the reducer was released");
  return *r->reducer;
}

std::vector<bool> boolListArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsArray()) throwType(std::string("expected an array of booleans for ") + what);
  auto arr = info[i].As<Napi::Array>();
  std::vector<bool> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr[k];
    if (!v.IsBoolean()) throwType(std::string("expected an array of booleans for ") + what);
    out[k] = v.As<Napi::Boolean>().Value();
  }
  return out;
}

std::vector<size_t> sizeListArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  auto v = int64ListArg(info, i, what);
  std::vector<size_t> out;
  for (int64_t x : v) {
    if (x < 0) throwRange(std::string(what) + " must not be negative");
    out.push_back(static_cast<size_t>(x));
  }
  return out;
}

Napi::Array sizeArrays(Napi::Env env, const std::vector<std::vector<size_t>>& lists) {
  auto out = Napi::Array::New(env, lists.size());
  for (size_t b = 0; b < lists.size(); b++) {
    auto inner = Napi::Array::New(env, lists[b].size());
    for (size_t k = 0; k < lists[b].size(); k++) inner.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(lists[b][k])));
    out.Set(static_cast<uint32_t>(b), inner);
  }
  return out;
}

// ddpComputeBuckets(tensors[], sizeLimits[], expectSparse[]) -> [bucketIndices[][], perBucketSizeLimits[]]
Napi::Value ddpComputeBuckets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto tensors = tensorListArg(info, 0, "tensors");
  auto limits = sizeListArg(info, 1, "bucketSizeLimits");
  auto sparse = boolListArg(info, 2, "expectSparseGradient");
  if (limits.empty()) throwRange("bucketSizeLimits must not be empty");
  auto [indices, perBucket] = c10d::compute_bucket_assignment_by_size(tensors, limits, sparse);
  auto out = Napi::Array::New(env, 2);
  out.Set(0u, sizeArrays(env, indices));
  auto lim = Napi::Array::New(env, perBucket.size());
  for (size_t k = 0; k < perBucket.size(); k++) lim.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(perBucket[k])));
  out.Set(1u, lim);
  return out;
}

// ddpVerifyParams(group, params[]): every rank has as many parameters, with the same shapes, strides and dtypes.
Napi::Value ddpVerifyParams(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  auto params = tensorListArg(info, 1, "params");
  c10d::verify_params_across_processes(pg, params, std::nullopt);
  return info.Env().Undefined();
}

// ddpBroadcastCoalesced(group, tensors[], bufferSize, src): rank src's values into every rank's tensors, packed into
// flat buffers of at most bufferSize bytes (Python's dist._broadcast_coalesced).
Napi::Value ddpBroadcastCoalesced(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  auto tensors = tensorListArg(info, 1, "tensors");
  int64_t size = int64Arg(info, 2, "bufferSize");
  if (size <= 0) throwRange("bufferSize must be positive");
  int src = intArg(info, 3, "src");
  if (!tensors.empty()) {
    at::NoGradGuard noGrad;
    c10d::broadcast_coalesced(pg, tensors, static_cast<size_t>(size), src);
  }
  return info.Env().Undefined();
}

// c10d::Reducer's constructor grew across releases: 13 arguments in 2.13 and 2.14 (a per-bucket size list for the
// rebuild, empty for the Reducer's own limits as Python passes it by default, and batched_grad_copy), 11 before
// (use_python_reducer last). R is a template parameter so that only the form this libtorch has is instantiated.
template <typename R>
std::shared_ptr<R> makeReducer(std::vector<at::Tensor> params, std::vector<std::vector<size_t>> buckets, c10::intrusive_ptr<c10d::ProcessGroup> pg,
                               std::vector<bool> sparse, int64_t cap, bool findUnused, bool asView, std::unordered_map<size_t, std::string> names,
                               int64_t firstCap, bool skipUnused) {
  using Params = std::vector<at::Tensor>;
  using Buckets = std::vector<std::vector<size_t>>;
  using Group = c10::intrusive_ptr<c10d::ProcessGroup>;
  using Names = std::unordered_map<size_t, std::string>;
  if constexpr (std::is_constructible_v<R, Params, Buckets, Group, std::vector<bool>, int64_t, bool, bool, Names, int64_t, bool, bool,
                                        std::vector<int64_t>, bool>) {
    return std::make_shared<R>(std::move(params), std::move(buckets), std::move(pg), std::move(sparse), cap, findUnused, asView, std::move(names),
                               firstCap, skipUnused, /*use_python_reducer=*/false, std::vector<int64_t>{}, /*batched_grad_copy=*/false);
  } else if constexpr (std::is_constructible_v<R, Params, Buckets, Group, std::vector<bool>, int64_t, bool, bool, Names, int64_t, bool, bool>) {
    return std::make_shared<R>(std::move(params), std::move(buckets), std::move(pg), std::move(sparse), cap, findUnused, asView, std::move(names),
                               firstCap, skipUnused, /*use_python_reducer=*/false);
  } else {
    static_assert(sizeof(R) == 0, "c10d::Reducer's constructor in this libtorch is not one torchkd knows: add its argument list here");
  }
}

// ddpReducer(params[], bucketIndices[][], group, expectSparse[], bucketBytesCap, findUnused, gradientAsBucketView,
//            paramNames[], firstBucketBytesCap, skipAllReduceUnusedParams) -> reducer
Napi::Value ddpReducer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto params = tensorListArg(info, 0, "params");
  if (!info[1].IsArray()) throwType("expected an array of buckets");
  auto outer = info[1].As<Napi::Array>();
  std::vector<std::vector<size_t>> buckets;
  for (uint32_t b = 0; b < outer.Length(); b++) {
    Napi::Value v = outer[b];
    if (!v.IsArray()) throwType("expected an array of buckets");
    std::vector<size_t> bucket;
    auto inner = v.As<Napi::Array>();
    for (uint32_t k = 0; k < inner.Length(); k++) {
      double d = inner.Get(k).As<Napi::Number>().DoubleValue();
      if (!(d >= 0) || d >= static_cast<double>(params.size())) throwRange("bucket index out of range");
      bucket.push_back(static_cast<size_t>(d));
    }
    buckets.push_back(std::move(bucket));
  }
  auto pg = groupArg(info, 2);
  auto sparse = boolListArg(info, 3, "expectSparseGradient");
  int64_t cap = int64Arg(info, 4, "bucketBytesCap");
  bool findUnused = boolArg(info, 5, "findUnusedParameters");
  bool asView = boolArg(info, 6, "gradientAsBucketView");
  if (!info[7].IsArray()) throwType("expected an array of parameter names");
  auto namesArr = info[7].As<Napi::Array>();
  std::unordered_map<size_t, std::string> names;
  for (uint32_t k = 0; k < namesArr.Length(); k++) {
    Napi::Value v = namesArr[k];
    if (v.IsString()) names[k] = v.As<Napi::String>().Utf8Value();
  }
  int64_t firstCap = int64Arg(info, 8, "firstBucketBytesCap");
  bool skipUnused = boolArg(info, 9, "skipAllReduceUnusedParams");

  auto reducer = makeReducer<c10d::Reducer>(std::move(params), std::move(buckets), pg, std::move(sparse), cap, findUnused, asView, std::move(names),
                                             firstCap, skipUnused);
  auto logger = std::make_shared<c10d::Logger>(reducer);
  reducer->set_logger(logger);
  // Released on the JS thread (not inside the collector): the destructor unhooks the parameters' accumulators.
  return Napi::External<ReducerRef>::New(env, new ReducerRef{std::move(reducer), std::move(logger)}, [](Napi::Env, ReducerRef* r) {
    try {
      delete r;
    } catch (...) {
    }
  });
}

// The bucket assignment as parameter indices, in bucket order (for tests and diagnostics).
Napi::Value bucketIndices(Napi::Env env, c10d::Reducer& reducer, const std::vector<at::Tensor>& params) {
  std::unordered_map<const void*, size_t> index;
  for (size_t k = 0; k < params.size(); k++) index[params[k].unsafeGetTensorImpl()] = k;
  std::vector<std::vector<size_t>> out;
  for (const auto& bucket : reducer.get_grad_buckets(true)) {
    std::vector<size_t> ids;
    for (const auto& p : bucket.getParameters()) {
      auto it = index.find(p.unsafeGetTensorImpl());
      TORCH_CHECK(it != index.end(), "a bucket holds a tensor that is not one of the parameters given");
      ids.push_back(it->second);
    }
    out.push_back(std::move(ids));
  }
  return sizeArrays(env, out);
}

// ddpReducerOp(reducer, op, ...): 0 prepare_for_forward, 1 rebuild_buckets -> bool, 2 prepare_for_backward(outputs[]),
// 3 set_static_graph, 4 bucket indices(params[]) -> number[][], 5 release.
Napi::Value ddpReducerOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int op = intArg(info, 1, "op");
  if (op == 5) {
    if (info[0].IsExternal()) {
      auto* r = info[0].As<Napi::External<ReducerRef>>().Data();
      auto logger = std::move(r->logger);
      auto reducer = std::move(r->reducer);
      logger.reset();
      reducer.reset();
    }
    return env.Undefined();
  }
  auto& reducer = reducerArg(info, 0);
  switch (op) {
    case 0:
      reducer.prepare_for_forward();
      return env.Undefined();
    case 1:
      return Napi::Boolean::New(env, reducer.rebuild_buckets());
    case 2:
      reducer.prepare_for_backward(tensorListArg(info, 2, "outputs"));
      return env.Undefined();
    case 3:
      reducer.set_static_graph();
      return env.Undefined();
    case 4:
      return bucketIndices(env, reducer, tensorListArg(info, 2, "params"));
    default:
      throwRange("unknown reducer op");
  }
}

struct ReducerHolder : torch::CustomClassHolder {
  std::weak_ptr<c10d::Reducer> reducer;
  explicit ReducerHolder(std::weak_ptr<c10d::Reducer> r) : reducer(std::move(r)) {}
};

// Python's _DDPSink: an identity over the forward's outputs (cloned, with undefined gradients kept undefined) whose
// backward, for a static graph's first iteration, queues the reducer's delayed all-reduce at the end of backward.
struct DdpSink : public torch::autograd::Function<DdpSink> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, at::TensorList inputs,
                                                c10::intrusive_ptr<ReducerHolder> reducer, bool delayAllReduce) {
    ctx->set_materialize_grads(false);
    ctx->saved_data["reducer"] = c10::IValue::make_capsule(reducer);
    ctx->saved_data["delay"] = delayAllReduce;
    torch::autograd::variable_list out;
    for (const auto& t : inputs) out.push_back(t.clone());
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    if (ctx->saved_data["delay"].toBool()) {
      auto holder = c10::static_intrusive_pointer_cast<ReducerHolder>(ctx->saved_data["reducer"].toCapsule());
      std::weak_ptr<c10d::Reducer> weak = holder->reducer;
      torch::autograd::Engine::get_default_engine().queue_callback([weak] {
        if (auto r = weak.lock()) r->delay_all_reduce();
      });
    }
    grads.emplace_back();
    grads.emplace_back();
    return grads;
  }
};

// ddpSink(reducer, outputs[], delayAllReduce) -> outputs[] (those requiring grad pass through the sink)
Napi::Value ddpSink(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) throwType("expected a reducer handle");
  auto* ref = info[0].As<Napi::External<ReducerRef>>().Data();
  if (!ref->reducer) throwType("the reducer was released");
  auto outputs = tensorListArg(info, 1, "outputs");
  bool delay = boolArg(info, 2, "delayAllReduce");
  auto holder = c10::make_intrusive<ReducerHolder>(ref->reducer);
  auto outs = DdpSink::apply(at::TensorList(outputs), holder, delay);
  return wrapList(info, outs);
}

}  // namespace

void initReducer(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "ddpComputeBuckets", ddpComputeBuckets);
  exportGuarded(env, exports, "ddpVerifyParams", ddpVerifyParams);
  exportGuarded(env, exports, "ddpBroadcastCoalesced", ddpBroadcastCoalesced);
  exportGuarded(env, exports, "ddpReducer", ddpReducer);
  exportGuarded(env, exports, "ddpReducerOp", ddpReducerOp);
  exportGuarded(env, exports, "ddpSink", ddpSink);
}

#else

void initReducer(Napi::Env, Napi::Object) {}

#endif

}  // namespace torchkd
