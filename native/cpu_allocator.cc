// The CPU allocator libtorch's CPU tensors get their memory from (c10::SetCPUAllocator), installed at load.
//
// libtorch's default allocator takes every block from posix_memalign with 64-byte alignment. glibc serves an aligned
// request by allocating a larger chunk and freeing the parts before and after the aligned block, and never from its
// per-thread cache, so each small tensor costs a split, up to two frees into the bins, and later a merge. Where
// tensors are freed as they die (Python's reference counting) that stays cheap; here, tensors a program drops are
// freed by V8's garbage collector, thousands at a time, and glibc spends the next ops merging and splitting the
// fragments (malloc_consolidate, unlink_chunk: a fifth of a small op's time, measured with perf).
//
// Below 2 MiB, where libtorch would only ask for 64-byte alignment too, this allocator takes an ordinary malloc block
// 64 bytes larger and aligns inside it: one chunk, eligible for glibc's per-thread cache, reused whole. The small
// ops of `npm run bench ops` run 11-16% faster with it (docs/benchmarks.md). From 2 MiB up it defers to libtorch's
// c10::alloc_cpu, which keeps PyTorch's huge-page alignment (THP_MEM_ALLOC_ENABLE=1).
//
// Each block keeps, in the 16 bytes before its data, where its allocation starts and which of the two made it, so one
// deleter frees both kinds and the data pointer is its own context (as libtorch's raw_allocate/raw_deallocate need).
// An empty request gets a null pointer, as with libtorch's allocator. TORCHKD_CPU_ALLOCATOR=0 leaves libtorch's.
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "addon.h"

namespace torchkd {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kMallocBelow = size_t{2} << 20;  // c10's alloc_cpu aligns to 2 MiB from here (with THP enabled)
constexpr uintptr_t kFromMalloc = 1;
constexpr uintptr_t kFromC10 = 2;

class CpuAllocator final : public c10::Allocator {
 public:
  static void release(void* data) {
    if (data == nullptr) return;
    char* p = static_cast<char*>(data);
    void* base;
    uintptr_t source;
    std::memcpy(&base, p - 8, sizeof base);
    std::memcpy(&source, p - 16, sizeof source);
    if (source == kFromMalloc)
      std::free(base);
    else
      c10::free_cpu(base);
  }

  c10::DataPtr allocate(size_t n) override {
    const c10::Device cpu(c10::DeviceType::CPU);
    if (n == 0) return {nullptr, nullptr, &release, cpu};
    TORCH_CHECK_WITH(OutOfMemoryError, n <= SIZE_MAX - 2 * kAlignment, "CPU allocator: not enough memory: you tried to allocate ", n, " bytes.");
    char* base;
    char* data;
    uintptr_t source;
    if (n < kMallocBelow) {
      // malloc's blocks are 16-byte aligned: the data starts 16 to 64 bytes in, at the next multiple of 64.
      base = static_cast<char*>(std::malloc(n + kAlignment));
      TORCH_CHECK_WITH(OutOfMemoryError, base != nullptr, "CPU allocator: not enough memory: you tried to allocate ", n, " bytes.");
      data = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(base) + 16 + kAlignment - 1) & ~uintptr_t{kAlignment - 1});
      source = kFromMalloc;
    } else {
      try {
        base = static_cast<char*>(c10::alloc_cpu(n + kAlignment));
      } catch (const c10::Error&) {
        // c10's message would give the size with this allocator's 64 bytes added.
        base = nullptr;
      }
      TORCH_CHECK_WITH(OutOfMemoryError, base != nullptr, "CPU allocator: not enough memory: you tried to allocate ", n, " bytes.");
      data = base + kAlignment;
      source = kFromC10;
    }
    std::memcpy(data - 8, &base, sizeof base);
    std::memcpy(data - 16, &source, sizeof source);
    return {data, data, &release, cpu};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
};

// cpuAllocator(): 'torchkd' where this allocator serves CPU tensors, 'libtorch' where libtorch's own does.
Napi::Value cpuAllocator(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), c10::GetCPUAllocator() == c10::GetDefaultCPUAllocator() ? "libtorch" : "torchkd");
}

}  // namespace

void initCpuAllocator(Napi::Env env, Napi::Object exports) {
  // Once per process (each worker thread's environment runs Init). The allocator is never freed: libtorch keeps the
  // pointer, and tensors can be freed up to the process's last moment.
  static std::once_flag once;
  std::call_once(once, [] {
    const char* choice = std::getenv("TORCHKD_CPU_ALLOCATOR");
    if (!(choice && std::string(choice) == "0")) c10::SetCPUAllocator(new CpuAllocator(), /*priority=*/1);
  });
  exportGuarded(env, exports, "cpuAllocator", cpuAllocator);
}

}  // namespace torchkd
