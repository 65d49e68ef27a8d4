// Device queries and thread settings: torch.cuda.* and torch.set_num_threads.
//
// The CUDA-specific parts (memory statistics) need libtorch's CUDA headers and are compiled only in the CUDA flavour.
#include "addon.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#ifdef TORCHKD_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <ATen/cuda/CUDAContext.h>
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

// cudaMemoryStats(device) -> {allocated, reserved, peakAllocated, peakReserved} in bytes
Napi::Value cudaMemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#ifdef TORCHKD_WITH_CUDA
  if (!torch::cuda::is_available()) throwType("torch.cuda.memoryStats(): no CUDA device is available");
  int dev = isMissing(info, 0) ? c10::cuda::current_device() : intArg(info, 0, "device");
  auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(dev));
  const size_t agg = 0;  // StatType::AGGREGATE (the enum moved between namespaces across 2.x releases)
  auto out = Napi::Object::New(env);
  out.Set("allocated", Napi::Number::New(env, static_cast<double>(stats.allocated_bytes[agg].current)));
  out.Set("reserved", Napi::Number::New(env, static_cast<double>(stats.reserved_bytes[agg].current)));
  out.Set("peakAllocated", Napi::Number::New(env, static_cast<double>(stats.allocated_bytes[agg].peak)));
  out.Set("peakReserved", Napi::Number::New(env, static_cast<double>(stats.reserved_bytes[agg].peak)));
  return out;
#else
  (void)env;
  throwType("torch.cuda.memoryStats(): this torchkd binary was built without CUDA");
#endif
}

Napi::Value cudaResetPeak(const Napi::CallbackInfo& info) {
#ifdef TORCHKD_WITH_CUDA
  if (!torch::cuda::is_available()) throwType("no CUDA device is available");
  int dev = isMissing(info, 0) ? c10::cuda::current_device() : intArg(info, 0, "device");
  c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(dev));
  return info.Env().Undefined();
#else
  throwType("this torchkd binary was built without CUDA");
#endif
}

Napi::Value cudaDeviceName(const Napi::CallbackInfo& info) {
#ifdef TORCHKD_WITH_CUDA
  if (!torch::cuda::is_available()) throwType("no CUDA device is available");
  int dev = isMissing(info, 0) ? 0 : intArg(info, 0, "device");
  auto* prop = at::cuda::getDeviceProperties(dev);
  return Napi::String::New(info.Env(), prop->name);
#else
  throwType("this torchkd binary was built without CUDA");
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

}  // namespace

void initCuda(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "cudaIsAvailable", cudaIsAvailable);
  exportGuarded(env, exports, "cudaDeviceCount", cudaDeviceCount);
  exportGuarded(env, exports, "cudaSynchronize", cudaSynchronize);
  exportGuarded(env, exports, "cudaBuild", cudaBuild);
  exportGuarded(env, exports, "cudaMemoryStats", cudaMemoryStats);
  exportGuarded(env, exports, "cudaResetPeak", cudaResetPeak);
  exportGuarded(env, exports, "cudaDeviceName", cudaDeviceName);
  exportGuarded(env, exports, "setNumThreads", setNumThreads);
  exportGuarded(env, exports, "getNumThreads", getNumThreads);
  exportGuarded(env, exports, "getNumInteropThreads", getNumInteropThreads);
  exportGuarded(env, exports, "parallelInfo", parallelInfo);
}

}  // namespace torchkd
