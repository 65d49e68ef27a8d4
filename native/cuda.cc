// Device queries, thread settings and libtorch's global backend switches: torch.cuda.*, torch.set_num_threads,
// torch.backends.* and torch.set_float32_matmul_precision / use_deterministic_algorithms.
//
// The CUDA-specific parts (memory statistics) need libtorch's CUDA headers and are compiled only in the CUDA flavour.
#include "addon.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#ifdef TORCHKD_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#endif

namespace torchkd {
namespace {

Napi::Value cudaIsAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), torch::cuda::is_available());
}

Napi::Value cudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
}

Napi::Value cudaSynchronize(const Napi::CallbackInfo& info) {
  if (!torch::cuda::is_available()) throwType("torch.cuda.synchronize(): no CUDA device is available");
  int64_t dev = isMissing(info, 0) ? -1 : int64Arg(info, 0, "device");
  torch::cuda::synchronize(dev);
  return info.Env().Undefined();
}

Napi::Value cudaBuild(const Napi::CallbackInfo& info) {
#ifdef TORCHKD_WITH_CUDA
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

#ifdef TORCHKD_WITH_CUDA
// The device index argument `i`: the current device when absent, else checked against the visible devices.
c10::DeviceIndex cudaDeviceArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (!torch::cuda::is_available()) throwType(std::string("torch.cuda.") + fn + "(): no CUDA device is available");
  if (isMissing(info, i)) return c10::cuda::current_device();
  int32_t dev = intArg(info, i, "device");
  int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  if (dev < 0 || dev >= count) {
    throwRange(std::string("torch.cuda.") + fn + "(): device " + std::to_string(dev) + " is out of range (" +
               std::to_string(count) + " CUDA device(s) visible)");
  }
  return static_cast<c10::DeviceIndex>(dev);
}
#define TORCHKD_CUDA_ONLY(fn) ((void)0)
#else
#define TORCHKD_CUDA_ONLY(fn) throwType("torch.cuda." fn "(): this torchkd binary was built without CUDA")
#endif

// cudaMemoryStats(device) -> {allocated, reserved, peakAllocated, peakReserved} in bytes
Napi::Value cudaMemoryStats(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("memoryStats");
#ifdef TORCHKD_WITH_CUDA
  Napi::Env env = info.Env();
  const c10::DeviceIndex device = cudaDeviceArg(info, 0, "memoryStats");
  auto out = Napi::Object::New(env);
  // Before the first CUDA allocation of the process the caching allocator is not set up (its queries would throw
  // "did you call init?"): PyTorch answers {} / 0 then, without creating a CUDA context, and so does this.
  if (!c10::cuda::CUDACachingAllocator::get()->initialized()) {
    for (const char* key : {"allocated", "reserved", "peakAllocated", "peakReserved", "numAllocRetries", "numOoms"})
      out.Set(key, Napi::Number::New(env, 0));
    return out;
  }
  auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
  const size_t agg = 0;  // StatType::AGGREGATE (the enum moved between namespaces across 2.x releases)
  out.Set("allocated", Napi::Number::New(env, static_cast<double>(stats.allocated_bytes[agg].current)));
  out.Set("reserved", Napi::Number::New(env, static_cast<double>(stats.reserved_bytes[agg].current)));
  out.Set("peakAllocated", Napi::Number::New(env, static_cast<double>(stats.allocated_bytes[agg].peak)));
  out.Set("peakReserved", Napi::Number::New(env, static_cast<double>(stats.reserved_bytes[agg].peak)));
  out.Set("numAllocRetries", Napi::Number::New(env, static_cast<double>(stats.num_alloc_retries)));
  out.Set("numOoms", Napi::Number::New(env, static_cast<double>(stats.num_ooms)));
  return out;
#endif
}

Napi::Value cudaResetPeak(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("resetPeakMemoryStats");
#ifdef TORCHKD_WITH_CUDA
  const c10::DeviceIndex device = cudaDeviceArg(info, 0, "resetPeakMemoryStats");
  // Nothing allocated yet: the peaks are 0 already (and the allocator would refuse the call).
  if (c10::cuda::CUDACachingAllocator::get()->initialized()) c10::cuda::CUDACachingAllocator::resetPeakStats(device);
  return info.Env().Undefined();
#endif
}

// Returns the cached, unused blocks of every device to the driver (torch.cuda.empty_cache).
Napi::Value cudaEmptyCache(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("emptyCache");
#ifdef TORCHKD_WITH_CUDA
  if (torch::cuda::is_available()) c10::cuda::CUDACachingAllocator::emptyCache();
  return info.Env().Undefined();
#endif
}

// cudaMemGetInfo(device) -> [free, total] bytes as the driver sees them (torch.cuda.mem_get_info).
Napi::Value memGetInfo(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("memGetInfo");
#ifdef TORCHKD_WITH_CUDA
  c10::cuda::CUDAGuard guard(cudaDeviceArg(info, 0, "memGetInfo"));
  size_t freeBytes = 0, totalBytes = 0;
  C10_CUDA_CHECK(::cudaMemGetInfo(&freeBytes, &totalBytes));
  auto out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(freeBytes)));
  out.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(totalBytes)));
  return out;
#endif
}

Napi::Value cudaCurrentDevice(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("currentDevice");
#ifdef TORCHKD_WITH_CUDA
  return Napi::Number::New(info.Env(), cudaDeviceArg(info, 0, "currentDevice"));
#endif
}

Napi::Value cudaSetDevice(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("setDevice");
#ifdef TORCHKD_WITH_CUDA
  if (isMissing(info, 0)) throwType("torch.cuda.setDevice(): expected a device index");
  c10::cuda::set_device(cudaDeviceArg(info, 0, "setDevice"));
  return info.Env().Undefined();
#endif
}

// cudaDeviceProperties(device) -> the fields of cudaDeviceProp that torch.cuda.get_device_properties shows.
Napi::Value cudaDeviceProperties(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("getDeviceProperties");
#ifdef TORCHKD_WITH_CUDA
  Napi::Env env = info.Env();
  const cudaDeviceProp* p = at::cuda::getDeviceProperties(cudaDeviceArg(info, 0, "getDeviceProperties"));
  auto out = Napi::Object::New(env);
  out.Set("name", Napi::String::New(env, p->name));
  out.Set("major", Napi::Number::New(env, p->major));
  out.Set("minor", Napi::Number::New(env, p->minor));
  out.Set("totalMemory", Napi::Number::New(env, static_cast<double>(p->totalGlobalMem)));
  out.Set("multiProcessorCount", Napi::Number::New(env, p->multiProcessorCount));
  out.Set("maxThreadsPerMultiProcessor", Napi::Number::New(env, p->maxThreadsPerMultiProcessor));
  out.Set("warpSize", Napi::Number::New(env, p->warpSize));
  out.Set("l2CacheSize", Napi::Number::New(env, p->l2CacheSize));
  out.Set("sharedMemoryPerBlockOptin", Napi::Number::New(env, static_cast<double>(p->sharedMemPerBlockOptin)));
  out.Set("regsPerMultiprocessor", Napi::Number::New(env, p->regsPerMultiprocessor));
  out.Set("isIntegrated", Napi::Boolean::New(env, p->integrated != 0));
  return out;
#endif
}

// cudaManualSeed(seed, all): seeds the current device's generator, or every device's (torch.cuda.manual_seed[_all]).
Napi::Value cudaManualSeed(const Napi::CallbackInfo& info) {
  uint64_t seed = static_cast<uint64_t>(int64Arg(info, 0, "seed"));
  bool all = !isMissing(info, 1) && boolArg(info, 1, "all");
  if (all) {
    torch::cuda::manual_seed_all(seed);
  } else {
    torch::cuda::manual_seed(seed);
  }
  return info.Env().Undefined();
}

// cudaSeedOp(op, ...): the default CUDA generators beyond manual seeding (torch.cuda.seed, seed_all, initial_seed,
// get_rng_state, set_rng_state). op 0: seed the current device's generator from a nondeterministic source; 1: every
// device's; 2: the current device's seed (a Number, or a BigInt past 2^53); 3: a device's state as a CPU uint8 tensor;
// 4: restore a device's state from such a tensor.
Napi::Value cudaSeedOp(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("seed");
#ifdef TORCHKD_WITH_CUDA
  Napi::Env env = info.Env();
  const int op = intArg(info, 0, "op");
  auto seedDevice = [](c10::DeviceIndex d) {
    auto gen = at::cuda::detail::getDefaultCUDAGenerator(d);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.seed();
  };
  switch (op) {
    case 0: seedDevice(cudaDeviceArg(info, 1, "seed")); return env.Undefined();
    case 1: {
      const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
      for (int64_t d = 0; d < count; d++) seedDevice(static_cast<c10::DeviceIndex>(d));
      return env.Undefined();
    }
    case 2: {
      auto gen = at::cuda::detail::getDefaultCUDAGenerator(cudaDeviceArg(info, 1, "initialSeed"));
      const uint64_t seed = gen.current_seed();
      if (seed <= (uint64_t(1) << 53)) return Napi::Number::New(env, static_cast<double>(seed));
      return Napi::BigInt::New(env, seed);
    }
    case 3: {
      auto gen = at::cuda::detail::getDefaultCUDAGenerator(cudaDeviceArg(info, 1, "getRngState"));
      std::lock_guard<std::mutex> lock(gen.mutex());
      return wrap(info, at::Tensor(gen.get_state()));
    }
    case 4: {
      const auto& state = tensorArg(info, 1);
      if (state.scalar_type() != at::kByte || !state.device().is_cpu()) {
        throwType("torch.cuda.setRngState expects a CPU uint8 tensor from torch.cuda.getRngState()");
      }
      auto gen = at::cuda::detail::getDefaultCUDAGenerator(cudaDeviceArg(info, 2, "setRngState"));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state);
      return env.Undefined();
    }
    default: throwRange("cudaSeedOp: unknown op");
  }
#endif
}

// ---- streams and events ----------------------------------------------------------------------------------------
//
// A stream crosses to JS as (id, device): c10's packed stream id, a BigInt, and the device index. Streams come from
// libtorch's per-device pool, as torch.cuda.Stream's do, so JS never owns one. An event is owned by its JS Event
// object (napi_wrap, destroyed by a GC finalizer); the raw runtime API is used because libtorch's event class moved
// between namespaces across 2.x.

#ifdef TORCHKD_WITH_CUDA
c10::cuda::CUDAStream streamArg(const Napi::CallbackInfo& info, size_t i) {
  int64_t id = int64Arg(info, i, "stream id");
  int32_t dev = intArg(info, i + 1, "stream device");
  if (dev < 0 || dev >= static_cast<int32_t>(torch::cuda::device_count())) throwRange("not a stream of a visible CUDA device");
  // c10 ids: 0 is the default stream, the others name one of libtorch's pool streams; any id c10 reads as an external
  // stream (a raw cudaStream_t pointer, which JS never has: even ids, and odd ones whose type bits say external, as
  // −1 or 31 do) is refused rather than handed to the driver as a pointer. (An unknown stream type is c10's own
  // error when the stream is used.)
  if (id < 0) throwRange("not a torch.cuda.Stream id");
  auto st = c10::cuda::CUDAStream::unpack3(id, static_cast<c10::DeviceIndex>(dev), c10::DeviceType::CUDA);
  if (id != 0 && reinterpret_cast<intptr_t>(st.stream()) == static_cast<intptr_t>(id)) throwRange("not a torch.cuda.Stream id");
  return st;
}

Napi::Value streamValue(Napi::Env env, const c10::cuda::CUDAStream& st) {
  auto out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::BigInt::New(env, static_cast<int64_t>(st.id())));
  out.Set(1u, Napi::Number::New(env, st.device_index()));
  out.Set(2u, Napi::Number::New(env, st.priority()));
  return out;
}

// A failed runtime call: cleared (a non-sticky error must not surface in a later, unrelated check) and thrown.
void cudaCheck(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  (void)cudaGetLastError();
  throw std::runtime_error(std::string(what) + ": CUDA error: " + cudaGetErrorString(err));
}

// The CUDA event is created at the first record, on the stream's device (an event belongs to the device that was
// current when it was made, and can only be recorded on that device's streams), as PyTorch's is.
struct EventBox {
  cudaEvent_t event = nullptr;
  int device = -1;  // the device of the event (-1: never recorded, no event yet)
  unsigned flags = 0;
  bool timing = false;
};

void destroyEvent(node_api_basic_env, void* data, void*) {
  auto* box = static_cast<EventBox*>(data);
  // No JS here: inside the collector. A failed destroy's error is cleared, or a later launch check would report it.
  if (box->event && cudaEventDestroy(box->event) != cudaSuccess) (void)cudaGetLastError();
  delete box;
}

EventBox& eventArg(const Napi::CallbackInfo& info, size_t i) {
  void* data = nullptr;
  if (i >= info.Length() || !info[i].IsObject() || napi_unwrap(info.Env(), info[i], &data) != napi_ok || !data) {
    throwType("expected a torch.cuda.Event");
  }
  return *static_cast<EventBox*>(data);
}
#endif

// cudaStream(kind, device, priority): kind 0 the current stream, 1 the default one, 2 a stream from the pool
// (priority < 0: high). Returns [id, device, priority].
Napi::Value cudaStream(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("Stream");
#ifdef TORCHKD_WITH_CUDA
  int32_t kind = intArg(info, 0, "kind");
  c10::DeviceIndex dev = cudaDeviceArg(info, 1, "Stream");
  if (kind == 0) return streamValue(info.Env(), c10::cuda::getCurrentCUDAStream(dev));
  if (kind == 1) return streamValue(info.Env(), c10::cuda::getDefaultCUDAStream(dev));
  int32_t priority = isMissing(info, 2) ? 0 : intArg(info, 2, "priority");
  if (priority > 0) throwRange("torch.cuda.Stream: priority must be 0 (normal) or negative (higher)");
  return streamValue(info.Env(), c10::cuda::getStreamFromPool(static_cast<int>(priority), dev));
#endif
}

// cudaStreamOp(op, id, device[, other id, other device | event]): 0 make current, 1 synchronize, 2 query,
// 3 wait for another stream's work so far, 4 wait for an event.
Napi::Value cudaStreamOp(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("Stream");
#ifdef TORCHKD_WITH_CUDA
  int32_t op = intArg(info, 0, "op");
  c10::cuda::CUDAStream st = streamArg(info, 1);
  Napi::Env env = info.Env();
  switch (op) {
    case 0:
      // As torch.cuda.set_stream: the stream's device becomes current too.
      if (c10::cuda::current_device() != st.device_index()) c10::cuda::set_device(st.device_index());
      c10::cuda::setCurrentCUDAStream(st);
      return env.Undefined();
    case 1: st.synchronize(); return env.Undefined();
    case 2: return Napi::Boolean::New(env, st.query());
    case 3: {
      c10::cuda::CUDAStream other = streamArg(info, 3);
      if (other == st) return env.Undefined();
      // Through a transient event, as torch.cuda.Stream.wait_stream does: made and recorded on `other`'s device,
      // waited for from this stream's device.
      cudaEvent_t ev = nullptr;
      cudaError_t err;
      {
        c10::cuda::CUDAGuard guard(other.device_index());
        cudaCheck(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "Stream.waitStream()");
        err = cudaEventRecord(ev, other.stream());
      }
      if (err == cudaSuccess) {
        c10::cuda::CUDAGuard guard(st.device_index());
        err = cudaStreamWaitEvent(st.stream(), ev, 0);
      }
      if (cudaEventDestroy(ev) != cudaSuccess) (void)cudaGetLastError();  // released once the wait is satisfied
      cudaCheck(err, "Stream.waitStream()");
      return env.Undefined();
    }
    case 4: {
      EventBox& box = eventArg(info, 3);
      if (box.device < 0) return env.Undefined();  // never recorded: nothing to wait for
      c10::cuda::CUDAGuard guard(st.device_index());
      cudaCheck(cudaStreamWaitEvent(st.stream(), box.event, 0), "Stream.waitEvent()");
      return env.Undefined();
    }
    default: throwRange("unknown stream op");
  }
#endif
}

// cudaEventNew(object, enableTiming, blocking): makes `object` own a new CUDA event.
Napi::Value cudaEventNew(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("Event");
#ifdef TORCHKD_WITH_CUDA
  if (!torch::cuda::is_available()) throwType("torch.cuda.Event(): no CUDA device is available");
  if (!info[0].IsObject()) throwType("cudaEventNew expects an object");
  bool timing = boolArg(info, 1, "enableTiming");
  bool blocking = boolArg(info, 2, "blocking");
  auto* box = new EventBox();
  box->timing = timing;
  box->flags = (timing ? 0u : cudaEventDisableTiming) | (blocking ? cudaEventBlockingSync : 0u);
  if (napi_wrap(info.Env(), info[0], box, destroyEvent, nullptr, nullptr) != napi_ok) {
    delete box;
    throw std::runtime_error("could not attach a CUDA event");
  }
  return info.Env().Undefined();
#endif
}

// cudaEventOp(op, event[, id, device | other event]): 0 record on a stream, 1 synchronize, 2 query,
// 3 milliseconds from this event to another.
Napi::Value cudaEventOp(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("Event");
#ifdef TORCHKD_WITH_CUDA
  int32_t op = intArg(info, 0, "op");
  EventBox& box = eventArg(info, 1);
  Napi::Env env = info.Env();
  switch (op) {
    case 0: {
      c10::cuda::CUDAStream st = streamArg(info, 2);
      if (box.device >= 0 && box.device != st.device_index()) {
        throwRange("Event.record(): the event was recorded on cuda:" + std::to_string(box.device) +
                   " and cannot be recorded on another device (cuda:" + std::to_string(st.device_index()) + ")");
      }
      c10::cuda::CUDAGuard guard(st.device_index());
      if (!box.event) {
        cudaCheck(cudaEventCreateWithFlags(&box.event, box.flags), "Event.record()");
        box.device = st.device_index();
      }
      cudaCheck(cudaEventRecord(box.event, st.stream()), "Event.record()");
      return env.Undefined();
    }
    case 1:
      if (box.event) cudaCheck(cudaEventSynchronize(box.event), "Event.synchronize()");
      return env.Undefined();
    case 2: {
      if (!box.event) return Napi::Boolean::New(env, true);
      cudaError_t err = cudaEventQuery(box.event);
      if (err == cudaErrorNotReady) {
        (void)cudaGetLastError();
        return Napi::Boolean::New(env, false);
      }
      cudaCheck(err, "Event.query()");
      return Napi::Boolean::New(env, true);
    }
    case 3: {
      EventBox& end = eventArg(info, 2);
      if (!box.timing || !end.timing) throwType("Event.elapsedTime(): both events must be created with { enableTiming: true }");
      if (box.device < 0 || end.device < 0) throwType("Event.elapsedTime(): both events must be recorded first");
      float ms = 0;
      c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(box.device));
      cudaCheck(cudaEventElapsedTime(&ms, box.event, end.event), "Event.elapsedTime()");
      return Napi::Number::New(env, ms);
    }
    default: throwRange("unknown event op");
  }
#endif
}

// tensorRecordStream(tensor, id, device): the caching allocator will not reuse the tensor's memory until the work
// queued on that stream so far is done (Tensor.record_stream).
Napi::Value tensorRecordStream(const Napi::CallbackInfo& info) {
  TORCHKD_CUDA_ONLY("recordStream");
#ifdef TORCHKD_WITH_CUDA
  const at::Tensor& t = tensorArg(info, 0);
  c10::cuda::CUDAStream st = streamArg(info, 1);
  if (!t.is_cuda()) throwType("recordStream(): the tensor is not on a CUDA device");
  t.record_stream(st.unwrap());
  return info.Env().Undefined();
#endif
}

Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  int32_t n = intArg(info, 0, "threads");
  if (n <= 0) throwRange("setNumThreads expects a positive number of threads");
  at::set_num_threads(n);
  return info.Env().Undefined();
}

Napi::Value getNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value getNumInteropThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_interop_threads());
}

Napi::Value parallelInfo(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), at::get_parallel_info());
}

// backendFlag(name[, value]) -> the flag's value (after setting it when a value is given). libtorch's global
// context, shared by every thread, as Python's torch.backends attributes are.
Napi::Value backendFlag(const Napi::CallbackInfo& info) {
  auto& ctx = at::globalContext();
  const std::string name = stringArg(info, 0, "name");
  const bool set = !isMissing(info, 1);
  Napi::Env env = info.Env();
  // Plain calls, not member pointers: some of these getters gained default arguments across libtorch versions.
  const auto value = [&]() { return boolArg(info, 1, "value"); };
  const auto boolean = [&](bool b) -> Napi::Value { return Napi::Boolean::New(env, b); };
  if (name == "cudnn.enabled") {
    if (set) ctx.setUserEnabledCuDNN(value());
    return boolean(ctx.userEnabledCuDNN());
  }
  if (name == "cudnn.benchmark") {
    if (set) ctx.setBenchmarkCuDNN(value());
    return boolean(ctx.benchmarkCuDNN());
  }
  if (name == "cudnn.deterministic") {
    if (set) ctx.setDeterministicCuDNN(value());
    return boolean(ctx.deterministicCuDNN());
  }
  if (name == "cudnn.allow_tf32") {
    if (set) ctx.setAllowTF32CuDNN(value());
    return boolean(ctx.allowTF32CuDNN());
  }
  if (name == "cuda.matmul.allow_tf32") {
    if (set) ctx.setAllowTF32CuBLAS(value());
    return boolean(ctx.allowTF32CuBLAS());
  }
  if (name == "float32_matmul_precision") {
    if (set) ctx.setFloat32MatmulPrecision(stringArg(info, 1, "precision"));
    switch (ctx.float32MatmulPrecision()) {
      case at::Float32MatmulPrecision::HIGHEST: return Napi::String::New(env, "highest");
      case at::Float32MatmulPrecision::HIGH: return Napi::String::New(env, "high");
      case at::Float32MatmulPrecision::MEDIUM: return Napi::String::New(env, "medium");
    }
    return Napi::String::New(env, "highest");
  }
  if (name == "deterministic_algorithms") {
    if (set) {
      const bool warnOnly = !isMissing(info, 2) && boolArg(info, 2, "warnOnly");
      ctx.setDeterministicAlgorithms(boolArg(info, 1, "mode"), warnOnly);
    }
    auto out = Napi::Array::New(env, 2);
    out.Set(0u, Napi::Boolean::New(env, ctx.deterministicAlgorithms()));
    out.Set(1u, Napi::Boolean::New(env, ctx.deterministicAlgorithmsWarnOnly()));
    return out;
  }
  if (name == "cudnn.version") {
    if (!at::Context::hasCuDNN()) return env.Null();
    return Napi::Number::New(env, static_cast<double>(at::Context::versionCuDNN()));
  }
  throwRange("unknown backend flag '" + name + "'");
}

}  // namespace

void initCuda(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "cudaIsAvailable", cudaIsAvailable);
  exportGuarded(env, exports, "cudaDeviceCount", cudaDeviceCount);
  exportGuarded(env, exports, "cudaSynchronize", cudaSynchronize);
  exportGuarded(env, exports, "cudaBuild", cudaBuild);
  exportGuarded(env, exports, "cudaMemoryStats", cudaMemoryStats);
  exportGuarded(env, exports, "cudaResetPeak", cudaResetPeak);
  exportGuarded(env, exports, "cudaEmptyCache", cudaEmptyCache);
  exportGuarded(env, exports, "cudaMemGetInfo", memGetInfo);
  exportGuarded(env, exports, "cudaCurrentDevice", cudaCurrentDevice);
  exportGuarded(env, exports, "cudaSetDevice", cudaSetDevice);
  exportGuarded(env, exports, "cudaDeviceProperties", cudaDeviceProperties);
  exportGuarded(env, exports, "cudaManualSeed", cudaManualSeed);
  exportGuarded(env, exports, "cudaSeedOp", cudaSeedOp);
  exportGuarded(env, exports, "cudaStream", cudaStream);
  exportGuarded(env, exports, "cudaStreamOp", cudaStreamOp);
  exportGuarded(env, exports, "cudaEventNew", cudaEventNew);
  exportGuarded(env, exports, "cudaEventOp", cudaEventOp);
  exportGuarded(env, exports, "tensorRecordStream", tensorRecordStream);
  exportGuarded(env, exports, "setNumThreads", setNumThreads);
  exportGuarded(env, exports, "getNumThreads", getNumThreads);
  exportGuarded(env, exports, "getNumInteropThreads", getNumInteropThreads);
  exportGuarded(env, exports, "parallelInfo", parallelInfo);
  exportGuarded(env, exports, "backendFlag", backendFlag);
}

}  // namespace torchkd
