// The CPU allocator libtorch's CPU tensors get their memory from (c10::SetCPUAllocator), installed at load.
//
// libtorch's default allocator takes every block from posix_memalign with 64-byte alignment. glibc serves an aligned
// request by allocating a larger chunk and freeing the parts before and after the aligned block, and never from its
// per-thread cache, so each small tensor costs a split, up to two frees into the bins, and later a merge. Where
// tensors are freed as they die (Python's reference counting) that stays cheap; here, tensors a program drops are
// freed by V8's garbage collector, thousands at a time, and glibc spends the next ops merging and splitting the
// fragments (malloc_consolidate, unlink_chunk: a fifth of a small op's time, measured with perf).
//
// Small blocks (below 256 KiB): an ordinary malloc block 64 bytes larger, aligned inside: one chunk, eligible for
// glibc's per-thread cache, reused whole. The small ops of `npm run bench ops` run 11-16% faster with it.
//
// Large blocks (256 KiB and up) are kept for reuse when freed. Freed late and in batches, large blocks fragment
// glibc's heap: a training step's activations and gradients are freed together, interleaved with younger blocks, the
// next step's requests no longer fit the holes, so the heap grows and each step faults in fresh pages. Main-arena size
// against the most ever in use (mallinfo2), with libtorch's allocator or plain malloc below 2 MiB: ResNet-20 KD step
// 1154 / 406 MB, Linear 512->32000 KD step 410-1129 / 253 MB from run to run, a 2-rank DDP MLP step 483 / 89 MB.
// A training step asks for the same sizes every time, so freed large blocks are kept in lists by size class (whole
// pages, eight classes per doubling from 64 KiB) and handed out again to requests of their class, most recently freed
// first. At most 1 GiB of freed blocks is kept (TORCHKD_CPU_CACHE_MB sets another limit; 0 keeps none); past it the
// least recently freed go back to the system. The blocks come from libtorch's c10::alloc_cpu, which keeps PyTorch's
// huge-page alignment (THP_MEM_ALLOC_ENABLE=1); when it fails, every kept block is given back and it is asked again.
//
// Each block keeps, in the 16 bytes before its data, where its allocation starts and which path made it (a large
// block its size too, in the 8 before those), so one deleter frees every kind and the data pointer is its own context
// (as libtorch's raw_allocate/raw_deallocate need).
// An empty request gets a null pointer, as with libtorch's allocator. TORCHKD_CPU_ALLOCATOR=0 leaves libtorch's.
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "addon.h"

namespace torchkd {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kCacheFrom = size_t{256} << 10;
constexpr size_t kPage = 4096;
constexpr size_t kLargest = size_t{1} << 56;  // no machine has this much; larger sizes would overflow the rounding
constexpr uintptr_t kFromMalloc = 1;
constexpr uintptr_t kFromC10 = 2;
constexpr uintptr_t kFromCache = 3;

[[noreturn]] void outOfMemory(size_t n) {
  TORCH_CHECK_WITH(OutOfMemoryError, false, "CPU allocator: not enough memory: you tried to allocate ", n, " bytes.");
  std::abort();  // not reached
}

// A large block's first bytes while it sits in the cache: its size, its place in the list of its size class and in
// the list of all kept blocks by the time they were freed. 40 bytes, inside the 64 before the data.
struct Block {
  size_t bytes;
  Block* newer;  // all kept blocks, most recently freed at `newest`
  Block* older;
  Block* next;  // the kept blocks of one size class, most recently freed first
  Block* prev;
};
static_assert(sizeof(Block) + 24 <= kAlignment, "the cache links, the size and the source tag share the 64 bytes before data");

// The bytes of the block that serves a request of `n` bytes (its 64-byte header included): whole pages, rounded up to
// one of eight classes per doubling from 16 pages on.
size_t blockBytes(size_t n) {
  size_t pages = (n + kAlignment + kPage - 1) / kPage;
  if (pages > 16) {
    size_t top = size_t{1} << (63 - __builtin_clzll(pages));
    size_t step = top / 8;
    pages = (pages + step - 1) / step * step;
  }
  return pages * kPage;
}

class BlockCache {
 public:
  explicit BlockCache(size_t limit) : limit_(limit) {}

  size_t limit() const { return limit_; }

  // A kept block of exactly `bytes`, or null.
  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = classes_.find(bytes);
    if (it == classes_.end() || it->second == nullptr) return nullptr;
    Block* b = it->second;
    unlink(b, it->second);
    return b;
  }

  // Keeps a freed block, giving back the least recently freed ones past the limit.
  void put(void* base, size_t bytes) {
    std::vector<void*> out;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (bytes > limit_) {
        out.push_back(base);
      } else {
        Block* b = static_cast<Block*>(base);
        b->bytes = bytes;
        Block*& head = classes_[bytes];
        b->prev = nullptr;
        b->next = head;
        if (head) head->prev = b;
        head = b;
        b->older = newest_;
        b->newer = nullptr;
        if (newest_) newest_->newer = b;
        newest_ = b;
        if (!oldest_) oldest_ = b;
        kept_ += bytes;
        while (kept_ > limit_) out.push_back(evictOldest());
      }
    }
    for (void* p : out) c10::free_cpu(p);
  }

  // Gives every kept block back to the system.
  void release() {
    std::vector<void*> out;
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (oldest_) out.push_back(evictOldest());
    }
    for (void* p : out) c10::free_cpu(p);
  }

  size_t keptBytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return kept_;
  }

 private:
  Block* evictOldest() {
    Block* b = oldest_;
    unlink(b, classes_[b->bytes]);
    return b;
  }

  void unlink(Block* b, Block*& head) {
    if (b->prev)
      b->prev->next = b->next;
    else
      head = b->next;
    if (b->next) b->next->prev = b->prev;
    if (b->newer)
      b->newer->older = b->older;
    else
      newest_ = b->older;
    if (b->older)
      b->older->newer = b->newer;
    else
      oldest_ = b->newer;
    kept_ -= b->bytes;
  }

  const size_t limit_;
  std::mutex mu_;
  std::unordered_map<size_t, Block*> classes_;
  Block* newest_ = nullptr;
  Block* oldest_ = nullptr;
  size_t kept_ = 0;
};

// Never destroyed: tensors can be freed up to the process's last moment, from any thread.
BlockCache* cache = nullptr;

// c10::alloc_cpu, or null where it fails.
char* allocC10(size_t bytes) {
  try {
    return static_cast<char*>(c10::alloc_cpu(bytes));
  } catch (const c10::Error&) {
    return nullptr;
  }
}

class CpuAllocator final : public c10::Allocator {
 public:
  static void release(void* data) {
    if (data == nullptr) return;
    char* p = static_cast<char*>(data);
    void* base;
    uintptr_t source;
    std::memcpy(&base, p - 8, sizeof base);
    std::memcpy(&source, p - 16, sizeof source);
    if (source == kFromMalloc) {
      std::free(base);
    } else if (source == kFromCache) {
      size_t bytes;
      std::memcpy(&bytes, p - 24, sizeof bytes);
      cache->put(base, bytes);
    } else {
      c10::free_cpu(base);
    }
  }

  c10::DataPtr allocate(size_t n) override {
    const c10::Device cpu(c10::DeviceType::CPU);
    if (n == 0) return {nullptr, nullptr, &release, cpu};
    if (n > kLargest) outOfMemory(n);
    char* base;
    char* data;
    uintptr_t source;
    if (n < kCacheFrom) {
      // malloc's blocks are 16-byte aligned: the data starts 16 to 64 bytes in, at the next multiple of 64.
      base = static_cast<char*>(std::malloc(n + kAlignment));
      if (base == nullptr) outOfMemory(n);
      data = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(base) + 16 + kAlignment - 1) & ~uintptr_t{kAlignment - 1});
      source = kFromMalloc;
    } else if (cache != nullptr) {
      const size_t bytes = blockBytes(n);
      base = static_cast<char*>(cache->take(bytes));
      if (base == nullptr) base = allocC10(bytes);
      if (base == nullptr) {
        cache->release();
        base = allocC10(bytes);
      }
      if (base == nullptr) outOfMemory(n);
      data = base + kAlignment;
      std::memcpy(data - 24, &bytes, sizeof bytes);
      source = kFromCache;
    } else {
      base = allocC10(n + kAlignment);
      if (base == nullptr) outOfMemory(n);
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

// cpuCache(release?): {keptBytes, limitBytes} of the large-block cache (zeros without one); with `true`, first gives
// every kept block back to the system.
Napi::Value cpuCache(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (cache != nullptr && info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value()) cache->release();
  auto out = Napi::Object::New(env);
  out.Set("keptBytes", Napi::Number::New(env, cache ? static_cast<double>(cache->keptBytes()) : 0));
  out.Set("limitBytes", Napi::Number::New(env, cache ? static_cast<double>(cache->limit()) : 0));
  return out;
}

// TORCHKD_CPU_CACHE_MB: a whole number of MiB (0: no cache); anything else is the default, 1 GiB.
size_t cacheLimit() {
  const char* v = std::getenv("TORCHKD_CPU_CACHE_MB");
  size_t mb = 1024;
  if (v && *v) {
    char* end = nullptr;
    unsigned long long parsed = std::strtoull(v, &end, 10);
    if (*end == '\0' && v[0] != '-' && parsed < (SIZE_MAX >> 20)) mb = static_cast<size_t>(parsed);
  }
  return mb << 20;
}

}  // namespace

void initCpuAllocator(Napi::Env env, Napi::Object exports) {
  // Once per process (each worker thread's environment runs Init). The allocator is never freed: libtorch keeps the
  // pointer, and tensors can be freed up to the process's last moment.
  static std::once_flag once;
  std::call_once(once, [] {
    const char* choice = std::getenv("TORCHKD_CPU_ALLOCATOR");
    if (choice && std::string(choice) == "0") return;
    const size_t limit = cacheLimit();
    if (limit > 0) cache = new BlockCache(limit);
    c10::SetCPUAllocator(new CpuAllocator(), /*priority=*/1);
  });
  exportGuarded(env, exports, "cpuAllocator", cpuAllocator);
  exportGuarded(env, exports, "cpuCache", cpuCache);
}

}  // namespace torchkd
