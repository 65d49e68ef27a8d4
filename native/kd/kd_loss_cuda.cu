// Fused KD loss, CUDA kernels (plain CUDA: no libtorch headers; the C++ side is kd_loss_cuda_glue.cc).
//
// Two kernels, same contract (per-row KL in double, the gradient (q − p)·gradScale), on the caller's stream:
// - generic (any GPU, any dtype and row length): one thread block per row (grid-stride over rows). Sweep 1 reads the
//   row once and keeps, per thread, online softmax statistics for both logit sets — running max m and sum z of
//   exp(x − m) — and a block reduction merges them. Sweep 2 re-reads the row (from L2 when it fits), writes the
//   gradient and sums w = Σ exp(b − m_b)·((b − m_b) − (a − m_a)), the KL term relative to the final maxima (relative,
//   so a student and a teacher row far apart — one masked with −1e10, or offset by 1e4 — do not cancel in float).
//   16-byte vector loads where aligned.
// - TMA cluster (sm_90+, fp32/fp16/bf16, aligned rows of >= 4096 classes; opt-in with TORCHKD_KD_KERNEL=tma until
//   verified on a GPU): a cluster of blocks splits each row, loads it once into shared memory with bulk copies and
//   never reads it from HBM again (below).
#include "kd_loss_cuda.h"

#include <cooperative_groups.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace torchkd {
namespace kd {
namespace {

template <typename T> struct Acc { using type = float; };
template <> struct Acc<double> { using type = double; };

__device__ __forceinline__ float toAcc(float x) { return x; }
__device__ __forceinline__ double toAcc(double x) { return x; }
__device__ __forceinline__ float toAcc(__half x) { return __half2float(x); }
__device__ __forceinline__ float toAcc(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T fromAcc(float x);
template <> __device__ __forceinline__ float fromAcc<float>(float x) { return x; }
template <> __device__ __forceinline__ __half fromAcc<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 fromAcc<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }
__device__ __forceinline__ double fromAccD(double x) { return x; }

// Logit / T, rounded once (no FMA contraction into a later subtraction): the maximum found in the statistics pass
// must subtract to exactly 0 from the same logit recomputed in the gradient pass.
__device__ __forceinline__ float scaled(float x, float invT) { return __fmul_rn(x, invT); }
__device__ __forceinline__ double scaled(double x, double invT) { return __dmul_rn(x, invT); }

__device__ __forceinline__ float fastExp(float x) { return __expf(x); }
__device__ __forceinline__ double fastExp(double x) { return exp(x); }

// Online statistics of one thread (or, after merging, of a whole row): the maxima and the sums of exp(x − m). The
// TMA kernel also carries its slices' KL term in w; the generic kernel sums it in the gradient sweep instead.
template <typename A>
struct Stats {
  A ma, za, mb, zb, w;
};

// A whole pack at once: the running maxima move at most once per pack (one rescaling exp per pack, not per element)
// and the VEC exponentials are branch-free, which matters because the kernels are bound by this arithmetic.
template <typename A, int VEC>
__device__ __forceinline__ void observePack(Stats<A>& st, const A (&a)[VEC], const A (&b)[VEC]) {
  A pma = a[0], pmb = b[0];
#pragma unroll
  for (int k = 1; k < VEC; k++) {
    pma = a[k] > pma ? a[k] : pma;
    pmb = b[k] > pmb ? b[k] : pmb;
  }
  const A ninf = -INFINITY;
  if (pma > st.ma) {
    st.za *= st.ma == ninf ? A(0) : fastExp(st.ma - pma);
    st.ma = pma;
  }
  if (pmb > st.mb) {
    st.zb *= st.mb == ninf ? A(0) : fastExp(st.mb - pmb);
    st.mb = pmb;
  }
  // While a running maximum is still −inf, the pack holds only −inf and NaN (a NaN first element makes the pack's
  // maximum NaN, which moves nothing): exp(x − 0) is then 0 for −inf and NaN for NaN, so a NaN always reaches the sum
  // and the row comes out NaN, as in PyTorch.
  const A oa = st.ma == ninf ? A(0) : st.ma, ob = st.mb == ninf ? A(0) : st.mb;
#pragma unroll
  for (int k = 0; k < VEC; k++) st.za += fastExp(a[k] - oa);
#pragma unroll
  for (int k = 0; k < VEC; k++) st.zb += fastExp(b[k] - ob);
}

template <typename A>
__device__ __forceinline__ A rescale(A m, A mNew) {
  return m == A(-INFINITY) ? A(0) : fastExp(m - mNew);
}

template <typename A>
__device__ __forceinline__ Stats<A> merge(const Stats<A>& x, const Stats<A>& y) {
  Stats<A> r;
  r.ma = x.ma > y.ma ? x.ma : y.ma;
  r.za = x.za * rescale(x.ma, r.ma) + y.za * rescale(y.ma, r.ma);
  r.mb = x.mb > y.mb ? x.mb : y.mb;
  r.zb = x.zb * rescale(x.mb, r.mb) + y.zb * rescale(y.mb, r.mb);
  r.w = A(0);
  return r;
}

template <typename A>
__device__ __forceinline__ Stats<A> shuffleXor(const Stats<A>& s, int lane) {
  return Stats<A>{__shfl_xor_sync(0xffffffffu, s.ma, lane), __shfl_xor_sync(0xffffffffu, s.za, lane),
                  __shfl_xor_sync(0xffffffffu, s.mb, lane), __shfl_xor_sync(0xffffffffu, s.zb, lane), A(0)};
}

// Merge across the block; every thread gets the row's statistics.
template <typename A>
__device__ Stats<A> blockMerge(Stats<A> st, Stats<A>* shared) {
  for (int lane = 16; lane > 0; lane >>= 1) st = merge(st, shuffleXor(st, lane));
  const int warp = threadIdx.x / 32, nWarps = (blockDim.x + 31) / 32;
  if ((threadIdx.x & 31) == 0) shared[warp] = st;
  __syncthreads();
  if (warp == 0) {
    Stats<A> v = threadIdx.x < nWarps ? shared[threadIdx.x] : Stats<A>{A(-INFINITY), A(0), A(-INFINITY), A(0), A(0)};
    for (int lane = 16; lane > 0; lane >>= 1) v = merge(v, shuffleXor(v, lane));
    if (threadIdx.x == 0) shared[0] = v;
  }
  __syncthreads();
  Stats<A> out = shared[0];
  __syncthreads();  // shared[] is reused by the next row
  return out;
}

// Sum across the block, valid in thread 0.
template <typename A>
__device__ A blockSum(A v, A* shared) {
  for (int lane = 16; lane > 0; lane >>= 1) v += __shfl_xor_sync(0xffffffffu, v, lane);
  const int warp = threadIdx.x / 32, nWarps = (blockDim.x + 31) / 32;
  if ((threadIdx.x & 31) == 0) shared[warp] = v;
  __syncthreads();
  A out = A(0);
  if (threadIdx.x == 0)
    for (int k = 0; k < nWarps; k++) out += shared[k];
  __syncthreads();  // shared[] is reused by the next row
  return out;
}

template <typename T, int VEC>
struct alignas(sizeof(T) * VEC) Pack {
  T v[VEC];
};

// Up to 1024 threads per block, and two such blocks per SM for the 32- and 16-bit types (32 registers), as the
// launcher's grid assumes; float64 gets one (its VEC = 2 version needs more than 32 registers).
template <typename T> constexpr int kMinBlocks = sizeof(T) == sizeof(double) ? 1 : 2;

// cols is a multiple of VEC: the launcher takes VEC = 1 for rows it cannot load in 16-byte packs.
template <typename T, int VEC>
__global__ void __launch_bounds__(1024, kMinBlocks<T>)
    kdLossKernel(const T* __restrict__ s, const T* __restrict__ t, T* __restrict__ grad, double* __restrict__ rowLoss,
                 int64_t rows, int64_t cols, double invTd, double gradScaled) {
  using A = typename Acc<T>::type;
  __shared__ Stats<A> shared[32];
  __shared__ A wShared[32];
  const A invT = static_cast<A>(invTd);
  const A gradScale = static_cast<A>(gradScaled);
  const int64_t nVec = cols / VEC;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* sr = s + row * cols;
    const T* tr = t + row * cols;
    Stats<A> st{A(-INFINITY), A(0), A(-INFINITY), A(0), A(0)};
    const auto* sv = reinterpret_cast<const Pack<T, VEC>*>(sr);
    const auto* tv = reinterpret_cast<const Pack<T, VEC>*>(tr);
    for (int64_t j = threadIdx.x; j < nVec; j += blockDim.x) {
      Pack<T, VEC> ps = sv[j], pt = tv[j];
      A a[VEC], b[VEC];
#pragma unroll
      for (int k = 0; k < VEC; k++) a[k] = scaled(toAcc(ps.v[k]), invT), b[k] = scaled(toAcc(pt.v[k]), invT);
      observePack<A, VEC>(st, a, b);
    }
    Stats<A> row_ = blockMerge(st, shared);
    // q = exp(a − m_a)/z_a and p = exp(b − m_b)/z_b: subtracting the maxima first keeps large logits exact (adding
    // log z to a large m would round at the magnitude of m). The same sweep sums the KL term w (also without a
    // gradient to write: the loss needs it).
    const A ma = row_.ma, mb = row_.mb;
    const A qScale = gradScale / row_.za, pScale = gradScale / row_.zb;
    T* gr = grad == nullptr ? nullptr : grad + row * cols;
    auto* gv = reinterpret_cast<Pack<T, VEC>*>(gr);
    A w = A(0);
    for (int64_t j = threadIdx.x; j < nVec; j += blockDim.x) {
      Pack<T, VEC> ps = sv[j], pt = tv[j], pg;
#pragma unroll
      for (int k = 0; k < VEC; k++) {
        const A da = scaled(toAcc(ps.v[k]), invT) - ma, db = scaled(toAcc(pt.v[k]), invT) - mb;
        const A ea = fastExp(da), eb = fastExp(db);
        w += eb > A(0) ? eb * (db - da) : A(0);  // 0·log 0 = 0: a vanishing teacher probability contributes nothing
        const A g = ea * qScale - eb * pScale;
        if constexpr (sizeof(T) == sizeof(double)) pg.v[k] = fromAccD(g); else pg.v[k] = fromAcc<T>(g);
      }
      if (gv != nullptr) gv[j] = pg;
    }
    // KL = Σ p·((b − m_b) − (a − m_a)) − log z_b + log z_a.
    const A wRow = blockSum(w, wShared);
    if (threadIdx.x == 0)
      rowLoss[row] = static_cast<double>(wRow) / static_cast<double>(row_.zb) - log(static_cast<double>(row_.zb)) +
                     log(static_cast<double>(row_.za));
  }
}

// ---- Hopper: one row per thread-block cluster, the row loaded once into shared memory by the TMA --------------
//
// The generic kernel reads each row twice (statistics, then gradient); at LLM vocabulary sizes the second read misses
// L2 and the kernel moves 5 bytes per 3 of the minimum. Here a cluster of K blocks splits a row into K slices of at
// most 64 KiB (s and t together), so three blocks fit on an SM. One thread asks the tensor memory accelerator for the
// whole slice (cp.async.bulk, completion on an mbarrier), so each SM has up to ~190 KiB of loads in flight while its
// other blocks compute. From shared memory each block finds its slice's maxima, then the sums of exponentials (base 2,
// (x − max)·log2(e)/T and one ex2 per logit), merges the K partial statistics through distributed shared memory, and writes the
// gradient. HBM traffic is the minimum: read s, read t, write the gradient.
namespace cg = cooperative_groups;

[[maybe_unused]] __device__ __forceinline__ float ex2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

[[maybe_unused]] __device__ __forceinline__ uint32_t smemAddr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

template <typename A>
__device__ __forceinline__ A warpMax(A v) {
  for (int lane = 16; lane > 0; lane >>= 1) {
    const A o = __shfl_xor_sync(0xffffffffu, v, lane);
    v = o > v ? o : v;
  }
  return v;
}

template <typename A>
__device__ __forceinline__ A warpSum(A v) {
  for (int lane = 16; lane > 0; lane >>= 1) v += __shfl_xor_sync(0xffffffffu, v, lane);
  return v;
}

template <typename T, int VEC, int THREADS>
__global__ void __launch_bounds__(THREADS, 3) kdLossTmaKernel(const T* __restrict__ s, const T* __restrict__ t,
                                                           T* __restrict__ grad, double* __restrict__ rowLoss,
                                                           int64_t cols, int64_t chunk, float k2, float gradScale) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
  using P = Pack<T, VEC>;
  constexpr int kWarps = THREADS / 32;
  extern __shared__ __align__(128) unsigned char smemRaw[];
  __shared__ __align__(8) uint64_t bar;
  __shared__ float red[kWarps][3];
  __shared__ Stats<float> ctaStats, rowStats;
  cg::cluster_group cluster = cg::this_cluster();
  const unsigned rank = cluster.block_rank();
  const unsigned K = cluster.num_blocks();
  const int64_t row = blockIdx.x / K;
  const int64_t begin = rank * chunk;
  const int64_t n = begin < cols ? (cols - begin < chunk ? cols - begin : chunk) : 0;
  const int nv = static_cast<int>(n / VEC);
  P* sS = reinterpret_cast<P*>(smemRaw);
  P* sT = sS + chunk / VEC;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;

  // One thread starts the slice's two bulk copies; everyone waits on the barrier's first phase.
  if (tid == 0) {
    const uint32_t b = smemAddr(&bar);
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(b));
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");  // the initialised barrier, seen by the async proxy
    const uint32_t bytes = static_cast<uint32_t>(n * sizeof(T));
    if (bytes > 0) {
      asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(b), "r"(2 * bytes) : "memory");
      asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
                   ::"r"(smemAddr(sS)), "l"(s + row * cols + begin), "r"(bytes), "r"(b) : "memory");
      asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
                   ::"r"(smemAddr(sT)), "l"(t + row * cols + begin), "r"(bytes), "r"(b) : "memory");
    } else {
      asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(b) : "memory");
    }
  }
  __syncthreads();
  {
    const uint32_t b = smemAddr(&bar);
    uint32_t done = 0;
    while (!done) {
      asm volatile(
          "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], 0;\n selp.u32 %0, 1, 0, p;\n}\n"
          : "=r"(done) : "r"(b) : "memory");
    }
  }

  // Maxima of the raw logits (k2 > 0, so the maxima of the scaled ones are these times k2).
  float ms = -INFINITY, mt = -INFINITY;
  for (int j = tid; j < nv; j += THREADS) {
    const P ps = sS[j], pt = sT[j];
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      const float a = toAcc(ps.v[k]), b = toAcc(pt.v[k]);
      ms = a > ms ? a : ms;
      mt = b > mt ? b : mt;
    }
  }
  ms = warpMax(ms);
  mt = warpMax(mt);
  if (lane == 0) red[warp][0] = ms, red[warp][1] = mt;
  __syncthreads();
  ms = red[0][0], mt = red[0][1];
#pragma unroll
  for (int w = 1; w < kWarps; w++) {
    ms = red[w][0] > ms ? red[w][0] : ms;
    mt = red[w][1] > mt ? red[w][1] : mt;
  }
  __syncthreads();  // red[] is reused below
  // Base 2 with k2 = log2(e)/T: exp(x/T − max/T) = 2^((x − max)·k2), one ex2 per logit. The maximum is subtracted
  // before scaling, so the largest logit gives exactly 2^0: the one-FMA form x·k2 − RN(max·k2) leaves it at the
  // rounding error of max·k2, which past 2^24 reaches hundreds and overflows 2^x (a slice masked with −1e10, or
  // finfo.min at T > 1.44, would turn the whole row into NaN), and max·k2 itself can overflow.
  const float oa = ms == -INFINITY ? 0.0f : ms, ob = mt == -INFINITY ? 0.0f : mt;
  float za = 0, zb = 0, w = 0;
  for (int j = tid; j < nv; j += THREADS) {
    const P ps = sS[j], pt = sT[j];
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      const float a = __fmul_rn(toAcc(ps.v[k]) - oa, k2), b = __fmul_rn(toAcc(pt.v[k]) - ob, k2);
      const float ea = ex2(a), eb = ex2(b);
      za += ea;
      zb += eb;
      w += eb > 0.0f ? eb * (b - a) : 0.0f;  // 0·log 0 = 0
    }
  }
  za = warpSum(za);
  zb = warpSum(zb);
  w = warpSum(w);
  if (lane == 0) red[warp][0] = za, red[warp][1] = zb, red[warp][2] = w;
  __syncthreads();
  if (tid == 0) {
    // The slice's raw maxima; w stays relative to them: Σ 2^b·(b − a) with a = (s − m_s)·k2, b = (t − m_t)·k2.
    Stats<float> st{ms, 0.0f, mt, 0.0f, 0.0f};
    for (int v = 0; v < kWarps; v++) st.za += red[v][0], st.zb += red[v][1], st.w += red[v][2];
    ctaStats = st;
  }
  cluster.sync();
  // One thread per block merges the K partial statistics in rank order (so all blocks agree): the row's raw maxima
  // first, then the sums rescaled to them (base 2), and w moved to the row maxima (kept relative, so large logits
  // don't cancel).
  if (tid == 0) {
    float Ma = -INFINITY, Mb = -INFINITY;
    for (unsigned r = 0; r < K; r++) {
      const Stats<float>* o = cluster.map_shared_rank(&ctaStats, r);
      Ma = o->ma > Ma ? o->ma : Ma;
      Mb = o->mb > Mb ? o->mb : Mb;
    }
    float Za = 0, Zb = 0, W = 0;
    for (unsigned r = 0; r < K; r++) {
      const Stats<float> o = *cluster.map_shared_rank(&ctaStats, r);
      // Tested on the sums, not the maxima: a NaN logit makes its slice's sum NaN, and that must reach the row
      // (NaN·0 is NaN) as it does in PyTorch; an all −inf slice has sum 0 and contributes nothing.
      if (o.za != 0.0f) Za += o.za * ex2((o.ma - Ma) * k2);
      if (o.zb != 0.0f) {
        const float db = (o.mb - Mb) * k2;
        const float f = ex2(db);
        if (f > 0.0f) W += f * (o.w + o.zb * (db - (o.ma - Ma) * k2));
        Zb += o.zb * f;
      }
    }
    rowStats = Stats<float>{Ma, Za, Mb, Zb, W};
    // KL = Σ p (log p − log q) = ln 2 · W/Zb − ln Zb + ln Za (natural units).
    if (rank == 0)
      rowLoss[row] = static_cast<double>(W) / Zb * 0.6931471805599453 - log(static_cast<double>(Zb)) + log(static_cast<double>(Za));
  }
  __syncthreads();
  // This block is done reading its peers: arrive now, wait (for the peers to finish reading ours) before exiting.
  asm volatile("barrier.cluster.arrive.release.aligned;" ::: "memory");
  const float Ma = rowStats.ma, Mb = rowStats.mb, Za = rowStats.za, Zb = rowStats.zb;
  if (grad != nullptr) {
    const float qScale = gradScale / Za, pScale = gradScale / Zb;
    const float oMa = Ma == -INFINITY ? 0.0f : Ma, oMb = Mb == -INFINITY ? 0.0f : Mb;
    P* gg = reinterpret_cast<P*>(grad + row * cols + begin);
    for (int j = tid; j < nv; j += THREADS) {
      const P ps = sS[j], pt = sT[j];
      P pg;
#pragma unroll
      for (int k = 0; k < VEC; k++) {
        const float a = __fmul_rn(toAcc(ps.v[k]) - oMa, k2), b = __fmul_rn(toAcc(pt.v[k]) - oMb, k2);
        pg.v[k] = fromAcc<T>(ex2(a) * qScale - ex2(b) * pScale);
      }
      gg[j] = pg;
    }
  }
  __syncwarp();
  asm volatile("barrier.cluster.wait.acquire.aligned;" ::: "memory");
#else
  __trap();  // never launched without sm_90 code (launchTmaWith checks the image), but never silently empty either
#endif
}

// What the last launch ran, and why a requested TMA kernel did not run (read by benchmarks and tests through
// lastKernel(), so that a silent fallback cannot pass for a TMA measurement).
enum class Fallback : int { None, NotRequested, Float64, OldGpu, Shape, ClusterTooLarge, NoImage, NotResident, LaunchFailed };
std::atomic<int> gLastThreads{0};  // 0: the generic kernel ran; 512 or 256: the TMA kernel with that many threads
std::atomic<int> gLastCluster{0};
std::atomic<int> gLastFallback{0};
std::atomic<int> gLastError{0};

bool fallBack(Fallback why, cudaError_t err = cudaSuccess) {
  gLastThreads.store(0);
  gLastCluster.store(0);
  gLastFallback.store(static_cast<int>(why));
  gLastError.store(static_cast<int>(err));
  return false;
}

// Which kernel: TORCHKD_KD_KERNEL=generic|tma|tma256. The generic kernel is the default until the TMA kernel has
// been measured and checked on a GPU (scripts/gpu-check.sh runs its parity and benchmark); then it applies where it
// can (sm_90+, fp32/fp16/bf16, 16-byte aligned rows of at least 4096 classes) and the generic one elsewhere.
int kernelChoice() {
  static const int choice = [] {
    const char* v = std::getenv("TORCHKD_KD_KERNEL");
    if (v && std::strcmp(v, "tma") == 0) return 0;
    if (v && std::strcmp(v, "tma256") == 0) return 2;
    return 1;
  }();
  return choice;
}

// Per (kernel instantiation, device): whether it has sm_90 code and its attributes are set (64 KiB dynamic shared
// memory, the largest shared-memory carveout, non-portable clusters), and, per cluster size, whether such a cluster
// can be resident. Settled once each (a race only repeats the same idempotent calls), so steady-state launches make
// no extra driver calls.
struct TmaLaunchCache {
  std::atomic<int> ready[16] = {};        // per device: 0 unknown, 1 usable, −1 not
  std::atomic<int> resident[16][5] = {};  // per device and log2(K): 0 unknown, 1 yes, −1 no
};

template <typename T, int THREADS>
bool launchTmaWith(const T* s, const T* t, T* grad, double* rowLoss, int64_t rows, int64_t cols, int64_t chunk,
                   unsigned K, double invT, double gradScale, cudaStream_t stream, cudaError_t* err) {
  constexpr int kVec = 16 / sizeof(T);
  static TmaLaunchCache cache;
  auto kernel = kdLossTmaKernel<T, kVec, THREADS>;
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= 16) {
    cudaGetLastError();
    return fallBack(Fallback::NoImage);
  }
  if (cache.ready[device].load() == 0) {
    cudaFuncAttributes fa{};
    const bool ok = cudaFuncGetAttributes(&fa, kernel) == cudaSuccess && fa.ptxVersion >= 90 && fa.binaryVersion >= 90 &&
                    cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 65536) == cudaSuccess;
    if (!ok) cudaGetLastError();
    if (ok) {
      // Preferences, not requirements: a refused carveout costs occupancy, a refused non-portable size only clusters
      // of 16 (the residency query below then says no for K = 16 alone).
      if (cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared) != cudaSuccess)
        cudaGetLastError();
      if (cudaFuncSetAttribute(kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1) != cudaSuccess) cudaGetLastError();
    }
    cache.ready[device].store(ok ? 1 : -1);
  }
  if (cache.ready[device].load() < 0) return fallBack(Fallback::NoImage);
  const size_t smem = static_cast<size_t>(chunk) * 2 * sizeof(T);
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(static_cast<unsigned>(rows * K));
  cfg.blockDim = dim3(THREADS);
  cfg.dynamicSmemBytes = smem;
  cfg.stream = stream;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = K;
  attr[0].val.clusterDim.y = 1;
  attr[0].val.clusterDim.z = 1;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  const int logK = K == 1 ? 0 : K == 2 ? 1 : K == 4 ? 2 : K == 8 ? 3 : 4;
  if (cache.resident[device][logK].load() == 0) {
    // Asked with the largest slice this shape uses (64 KiB), so the answer holds for every row length.
    cudaLaunchConfig_t probe = cfg;
    probe.dynamicSmemBytes = 65536;
    int clusters = 0;
    const cudaError_t q = cudaOccupancyMaxActiveClusters(&clusters, kernel, &probe);
    if (q != cudaSuccess) {
      // Not cached: a failed query is not an answer (the next launch asks again).
      cudaGetLastError();
      return fallBack(Fallback::NotResident, q);
    }
    cache.resident[device][logK].store(clusters >= 1 ? 1 : -1);
  }
  if (cache.resident[device][logK].load() < 0) return fallBack(Fallback::NotResident);  // this cluster shape cannot be resident
  const float k2 = static_cast<float>(invT * 1.4426950408889634);
  *err = cudaLaunchKernelEx(&cfg, kernel, s, t, grad, rowLoss, cols, chunk, k2, static_cast<float>(gradScale));
  if (*err != cudaSuccess) {
    cudaGetLastError();
    return fallBack(Fallback::LaunchFailed, *err);
  }
  gLastThreads.store(THREADS);
  gLastCluster.store(static_cast<int>(K));
  gLastFallback.store(static_cast<int>(Fallback::None));
  gLastError.store(0);
  return true;
}

// Launches the TMA cluster kernel when it applies; returns false to let the caller use the generic kernel.
template <typename T>
bool launchTma(const T* s, const T* t, T* grad, double* rowLoss, int64_t rows, int64_t cols, double invT,
               double gradScale, cudaStream_t stream, cudaError_t* err) {
  const int choice = kernelChoice();
  if (choice == 1) return fallBack(Fallback::NotRequested);
  if constexpr (sizeof(T) == sizeof(double)) {
    return fallBack(Fallback::Float64);
  } else {
    constexpr int kVec = 16 / sizeof(T);
    int device = 0, major = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
    if (major < 9) return fallBack(Fallback::OldGpu);
    if (cols % kVec != 0 || cols < 4096 || rows < 1 || rows * 16 > INT32_MAX) return fallBack(Fallback::Shape);
    if (reinterpret_cast<uintptr_t>(s) % 16 || reinterpret_cast<uintptr_t>(t) % 16 || (grad && reinterpret_cast<uintptr_t>(grad) % 16))
      return fallBack(Fallback::Shape);
    // The smallest cluster whose slices (s and t) fit in 64 KiB, so that three blocks share an SM; 16 needs the
    // non-portable cluster size (H100/H200 allow it).
    unsigned K = 1;
    int64_t chunk = 0;
    for (; K <= 16; K *= 2) {
      chunk = (cols + K - 1) / K;
      chunk = (chunk + kVec - 1) / kVec * kVec;
      if (chunk * 2 * static_cast<int64_t>(sizeof(T)) <= 65536) break;
    }
    if (K > 16) return fallBack(Fallback::ClusterTooLarge);
    if (choice == 2) return launchTmaWith<T, 256>(s, t, grad, rowLoss, rows, cols, chunk, K, invT, gradScale, stream, err);
    return launchTmaWith<T, 512>(s, t, grad, rowLoss, rows, cols, chunk, K, invT, gradScale, stream, err);
  }
}

template <typename T>
cudaError_t launchTyped(const void* s, const void* t, void* grad, double* rowLoss, int64_t rows, int64_t cols,
                        double invT, double gradScale, cudaStream_t stream) {
  constexpr int kVec = 16 / sizeof(T);
  const bool aligned = cols % kVec == 0 && reinterpret_cast<uintptr_t>(s) % 16 == 0 &&
                       reinterpret_cast<uintptr_t>(t) % 16 == 0 && (grad == nullptr || reinterpret_cast<uintptr_t>(grad) % 16 == 0);
  int threads = cols >= 8192 ? 1024 : cols >= 1024 ? 256 : cols >= 128 ? 128 : 32;
  int device = 0, sms = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  const int blocksPerSm = 2048 / threads;
  int64_t grid = rows < int64_t(sms) * blocksPerSm ? rows : int64_t(sms) * blocksPerSm;
  if (grid < 1) grid = 1;
  const T* sp = static_cast<const T*>(s);
  const T* tp = static_cast<const T*>(t);
  T* gp = static_cast<T*>(grad);
  cudaError_t tmaErr = cudaSuccess;
  if (launchTma<T>(sp, tp, gp, rowLoss, rows, cols, invT, gradScale, stream, &tmaErr)) return cudaSuccess;
  if (aligned)
    kdLossKernel<T, kVec><<<static_cast<unsigned>(grid), threads, 0, stream>>>(sp, tp, gp, rowLoss, rows, cols, invT, gradScale);
  else
    kdLossKernel<T, 1><<<static_cast<unsigned>(grid), threads, 0, stream>>>(sp, tp, gp, rowLoss, rows, cols, invT, gradScale);
  return cudaGetLastError();
}

// g *= *factor in the arithmetic type (factor is float32, or float64 for float64 g), skipped entirely (each block
// reads the factor and returns) when it is exactly 1 — the usual case of loss.backward() — so the common backward
// costs one tiny launch and no host synchronisation.
template <typename T>
__global__ void scaleUnlessOne(T* __restrict__ g, const typename Acc<T>::type* __restrict__ factor, int64_t n) {
  using A = typename Acc<T>::type;
  const A f = *factor;
  if (f == A(1)) return;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    if constexpr (sizeof(T) == sizeof(double)) g[i] = fromAccD(toAcc(g[i]) * f); else g[i] = fromAcc<T>(toAcc(g[i]) * f);
  }
}

template <typename T>
cudaError_t launchScale(void* g, const void* factor, int64_t n, cudaStream_t stream) {
  int device = 0, sms = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  int64_t blocks = (n + 255) / 256;
  if (blocks > int64_t(sms) * 8) blocks = int64_t(sms) * 8;
  if (blocks < 1) blocks = 1;
  scaleUnlessOne<T><<<static_cast<unsigned>(blocks), 256, 0, stream>>>(static_cast<T*>(g), static_cast<const typename Acc<T>::type*>(factor), n);
  return cudaGetLastError();
}

}  // namespace

int launchKdLoss(CudaDtype dtype, const void* student, const void* teacher, void* grad, double* rowLoss, int64_t rows,
                 int64_t cols, double invTemperature, double gradScale, void* stream) {
  auto st = static_cast<cudaStream_t>(stream);
  if (rows == 0) return 0;
  switch (dtype) {
    case CudaDtype::Float32: return launchTyped<float>(student, teacher, grad, rowLoss, rows, cols, invTemperature, gradScale, st);
    case CudaDtype::Float64: return launchTyped<double>(student, teacher, grad, rowLoss, rows, cols, invTemperature, gradScale, st);
    case CudaDtype::Float16: return launchTyped<__half>(student, teacher, grad, rowLoss, rows, cols, invTemperature, gradScale, st);
    case CudaDtype::BFloat16: return launchTyped<__nv_bfloat16>(student, teacher, grad, rowLoss, rows, cols, invTemperature, gradScale, st);
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

int launchScaleUnlessOne(CudaDtype dtype, void* grad, const void* factor, int64_t n, void* stream) {
  auto st = static_cast<cudaStream_t>(stream);
  if (n == 0) return 0;
  switch (dtype) {
    case CudaDtype::Float32: return launchScale<float>(grad, factor, n, st);
    case CudaDtype::Float64: return launchScale<double>(grad, factor, n, st);
    case CudaDtype::Float16: return launchScale<__half>(grad, factor, n, st);
    case CudaDtype::BFloat16: return launchScale<__nv_bfloat16>(grad, factor, n, st);
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

const char* errorString(int code) { return cudaGetErrorString(static_cast<cudaError_t>(code)); }

std::string lastKernel() {
  const int threads = gLastThreads.load();
  if (threads > 0) return "tma" + std::to_string(threads) + " (clusters of " + std::to_string(gLastCluster.load()) + ")";
  static const char* const why[] = {"",
                                    "TMA not requested",
                                    "TMA: float64",
                                    "TMA: needs sm_90 or newer",
                                    "TMA: rows unaligned or under 4096 classes",
                                    "TMA: a row needs a cluster over 16",
                                    "TMA: no sm_90 kernel image, or 64 KiB of dynamic shared memory refused",
                                    "TMA: such a cluster cannot be resident",
                                    "TMA launch failed"};
  const int f = gLastFallback.load();
  std::string out = std::string("generic (") + (f > 0 && f < 9 ? why[f] : "no launch yet");
  if (gLastError.load() != 0) out += std::string(": ") + cudaGetErrorString(static_cast<cudaError_t>(gLastError.load()));
  return out + ")";
}

}  // namespace kd
}  // namespace torchkd
