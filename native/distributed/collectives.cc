// torch.distributed's collectives and point-to-point ops on a c10d ProcessGroup, issued exactly as Python's
// distributed_c10d.py issues them (the same ProcessGroup method and options per op), so ranks in Node and in
// Python match up. Argument checks and global → group rank mapping happen in lib/distributed/collectives.ts.
//
// Synchronous form: the op's work is waited for on the calling thread, as Python blocks. Asynchronous form: a work
// handle whose wait() waits on a libuv thread-pool thread and settles a Promise, so the event loop keeps running.
#include "distributed/dist.h"

namespace torchkd {

#ifdef TORCHKD_DISTRIBUTED

namespace {

struct WorkRef {
  c10::intrusive_ptr<c10d::Work> work;
};

// Gloo reports transport failures (a peer that died or stopped answering) as its own std::runtime_error types;
// they are torch.distributed's DistBackendError in Python's terms.
void waitHere(const c10::intrusive_ptr<c10d::Work>& work) {
  try {
    work->wait();
  } catch (const c10::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw c10::DistBackendError({__func__, __FILE__, static_cast<uint32_t>(__LINE__)}, e.what());
  }
}

// Waits for a work off the JS thread. A failure (a Gloo I/O error from a dead peer, a timeout) is kept as an
// exception_ptr and turned into the JS error on the JS thread.
class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, c10::intrusive_ptr<c10d::Work> work)
      : Napi::AsyncWorker(env, "torchkd:distributed.wait"), work_(std::move(work)), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      waitHere(work_);
    } catch (...) {
      failure_ = std::current_exception();
    }
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    if (failure_) deferred_.Reject(errorValue(Env(), failure_));
    else deferred_.Resolve(Napi::Boolean::New(Env(), true));
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  Napi::Promise::Deferred deferred_;
  std::exception_ptr failure_;
};

WorkRef& workArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsExternal()) throwType("expected a work handle");
  return *info[i].As<Napi::External<WorkRef>>().Data();
}

// distWorkWait(work) -> Promise<true>
Napi::Value distWorkWait(const Napi::CallbackInfo& info) {
  auto* worker = new WaitWorker(info.Env(), workArg(info, 0).work);
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

// distWorkOp(work, op): 0 isCompleted, 1 isSuccess, 2 sourceRank (after completion), 3 wait here (blocking)
Napi::Value distWorkOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& work = workArg(info, 0).work;
  switch (intArg(info, 1, "op")) {
    case 0:
      return Napi::Boolean::New(env, work->isCompleted());
    case 1:
      return Napi::Boolean::New(env, work->isCompleted() && work->isSuccess());
    case 2:
      return Napi::Number::New(env, work->sourceRank());
    case 3:
      waitHere(work);
      return env.Undefined();
    default:
      throwRange("unknown work op");
  }
}

c10d::ReduceOp reduceOpArg(const Napi::CallbackInfo& info, size_t i) {
  int op = intArg(info, i, "op");
  if (op < 0 || op > 7) throwRange("unknown ReduceOp " + std::to_string(op));
  return c10d::ReduceOp(static_cast<c10d::ReduceOp::RedOpType>(op));
}

// distAllReduce(group, tensor, op, async)
Napi::Value distAllReduce(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  std::vector<at::Tensor> tensors{tensorArg(info, 1)};
  c10d::AllreduceOptions opts;
  opts.reduceOp = reduceOpArg(info, 2);
  opts.asyncOp = boolArg(info, 3, "asyncOp");
  return finishWork(info, pg->allreduce(tensors, opts), opts.asyncOp);
}

// distBroadcast(group, tensor, groupSrc, async)
Napi::Value distBroadcast(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  std::vector<at::Tensor> tensors{tensorArg(info, 1)};
  c10d::BroadcastOptions opts;
  opts.rootRank = int64Arg(info, 2, "src");
  opts.rootTensor = 0;
  opts.asyncOp = boolArg(info, 3, "asyncOp");
  return finishWork(info, pg->broadcast(tensors, opts), opts.asyncOp);
}

// distAllGather(group, outputs[], input, async)
Napi::Value distAllGather(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  std::vector<std::vector<at::Tensor>> outputs{tensorListArg(info, 1, "tensorList")};
  std::vector<at::Tensor> inputs{tensorArg(info, 2)};
  c10d::AllgatherOptions opts;
  opts.asyncOp = boolArg(info, 3, "asyncOp");
  return finishWork(info, pg->allgather(outputs, inputs, opts), opts.asyncOp);
}

// distAllGatherIntoTensor(group, output, input, async)
Napi::Value distAllGatherIntoTensor(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  at::Tensor output = tensorArg(info, 1);
  at::Tensor input = tensorArg(info, 2);
  c10d::AllgatherOptions opts;
  opts.asyncOp = boolArg(info, 3, "asyncOp");
  return finishWork(info, pg->_allgather_base(output, input, opts), opts.asyncOp);
}

// distReduceScatterTensor(group, output, input, op, async)
Napi::Value distReduceScatterTensor(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  at::Tensor output = tensorArg(info, 1);
  at::Tensor input = tensorArg(info, 2);
  c10d::ReduceScatterOptions opts;
  opts.reduceOp = reduceOpArg(info, 3);
  opts.asyncOp = boolArg(info, 4, "asyncOp");
  return finishWork(info, pg->_reduce_scatter_base(output, input, opts), opts.asyncOp);
}

// distReduce(group, tensor, groupDst, op, async)
Napi::Value distReduce(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  std::vector<at::Tensor> tensors{tensorArg(info, 1)};
  c10d::ReduceOptions opts;
  opts.rootRank = int64Arg(info, 2, "dst");
  opts.rootTensor = 0;
  opts.reduceOp = reduceOpArg(info, 3);
  opts.asyncOp = boolArg(info, 4, "asyncOp");
  return finishWork(info, pg->reduce(tensors, opts), opts.asyncOp);
}

// distGather(group, tensor, gatherList[] | null, groupDst, async): gatherList on the destination only.
Napi::Value distGather(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  std::vector<at::Tensor> inputs{tensorArg(info, 1)};
  std::vector<std::vector<at::Tensor>> outputs;
  if (!isMissing(info, 2)) outputs.push_back(tensorListArg(info, 2, "gatherList"));
  c10d::GatherOptions opts;
  opts.rootRank = int64Arg(info, 3, "dst");
  opts.asyncOp = boolArg(info, 4, "asyncOp");
  return finishWork(info, pg->gather(outputs, inputs, opts), opts.asyncOp);
}

// distScatter(group, tensor, scatterList[] | null, groupSrc, async): scatterList on the source only.
Napi::Value distScatter(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  std::vector<at::Tensor> outputs{tensorArg(info, 1)};
  std::vector<std::vector<at::Tensor>> inputs;
  if (!isMissing(info, 2)) inputs.push_back(tensorListArg(info, 2, "scatterList"));
  c10d::ScatterOptions opts;
  opts.rootRank = int64Arg(info, 3, "src");
  opts.asyncOp = boolArg(info, 4, "asyncOp");
  return finishWork(info, pg->scatter(outputs, inputs, opts), opts.asyncOp);
}

// distSend(group, tensor, groupDst, tag, async)
Napi::Value distSend(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  std::vector<at::Tensor> tensors{tensorArg(info, 1)};
  int dst = intArg(info, 2, "dst");
  int tag = intArg(info, 3, "tag");
  return finishWork(info, pg->send(tensors, dst, tag), boolArg(info, 4, "asyncOp"));
}

// distRecv(group, tensor, groupSrc | -1 (any source), tag, async) -> the work, or (synchronous) the group rank
// the tensor came from.
Napi::Value distRecv(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  std::vector<at::Tensor> tensors{tensorArg(info, 1)};
  int src = intArg(info, 2, "src");
  int tag = intArg(info, 3, "tag");
  bool async = boolArg(info, 4, "asyncOp");
  auto work = src < 0 ? pg->recvAnysource(tensors, tag) : pg->recv(tensors, src, tag);
  if (async) return wrapWork(info.Env(), work);
  waitHere(work);
  return Napi::Number::New(info.Env(), src < 0 ? work->sourceRank() : src);
}

// distAllToAllSingle(group, output, input, outputSplitSizes[], inputSplitSizes[], async)
Napi::Value distAllToAllSingle(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  at::Tensor output = tensorArg(info, 1);
  at::Tensor input = tensorArg(info, 2);
  std::vector<int64_t> outSplits = int64ListArg(info, 3, "outputSplitSizes");
  std::vector<int64_t> inSplits = int64ListArg(info, 4, "inputSplitSizes");
  c10d::AllToAllOptions opts;
  opts.asyncOp = boolArg(info, 5, "asyncOp");
  return finishWork(info, pg->alltoall_base(output, input, outSplits, inSplits, opts), opts.asyncOp);
}

// distBarrier(group, async): on the CPU device, as Python picks it for a CPU-only or Gloo group.
Napi::Value distBarrier(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  c10d::BarrierOptions opts;
  opts.asyncOp = boolArg(info, 1, "asyncOp");
  if (pg->getBackendType() != c10d::ProcessGroup::BackendType::NCCL) opts.device = at::Device(at::kCPU);
  return finishWork(info, pg->barrier(opts), opts.asyncOp);
}

// distMonitoredBarrier(group, timeoutMs, waitAllRanks): Gloo's monitored barrier, which names the ranks that did not
// arrive in time (rank 0 collects; the others' error says rank 0 did not answer).
Napi::Value distMonitoredBarrier(const Napi::CallbackInfo& info) {
  const auto& pg = groupArg(info, 0);
  c10d::BarrierOptions opts;
  opts.timeout = millisArg(info, 1, "timeout");
  pg->monitoredBarrier(opts, boolArg(info, 2, "waitAllRanks"));
  return info.Env().Undefined();
}

}  // namespace

Napi::Value wrapWork(Napi::Env env, c10::intrusive_ptr<c10d::Work> work) {
  // Freeing the reference is plain native work, safe inside the collector; the op itself keeps running.
  return Napi::External<WorkRef>::New(env, new WorkRef{std::move(work)}, [](Napi::BasicEnv, WorkRef* w) { delete w; });
}

Napi::Value finishWork(const Napi::CallbackInfo& info, c10::intrusive_ptr<c10d::Work> work, bool async) {
  if (async) return wrapWork(info.Env(), std::move(work));
  waitHere(work);
  return info.Env().Undefined();
}

void initCollectives(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "distWorkWait", distWorkWait);
  exportGuarded(env, exports, "distWorkOp", distWorkOp);
  exportGuarded(env, exports, "distAllReduce", distAllReduce);
  exportGuarded(env, exports, "distBroadcast", distBroadcast);
  exportGuarded(env, exports, "distAllGather", distAllGather);
  exportGuarded(env, exports, "distAllGatherIntoTensor", distAllGatherIntoTensor);
  exportGuarded(env, exports, "distReduceScatterTensor", distReduceScatterTensor);
  exportGuarded(env, exports, "distReduce", distReduce);
  exportGuarded(env, exports, "distGather", distGather);
  exportGuarded(env, exports, "distScatter", distScatter);
  exportGuarded(env, exports, "distSend", distSend);
  exportGuarded(env, exports, "distRecv", distRecv);
  exportGuarded(env, exports, "distAllToAllSingle", distAllToAllSingle);
  exportGuarded(env, exports, "distBarrier", distBarrier);
  exportGuarded(env, exports, "distMonitoredBarrier", distMonitoredBarrier);
}

#else

void initCollectives(Napi::Env, Napi::Object) {}

#endif

}  // namespace torchkd
