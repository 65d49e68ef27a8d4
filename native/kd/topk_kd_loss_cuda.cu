// Fused top-k KD loss, CUDA kernel (plain CUDA: no libtorch headers; the C++ side is kd_loss_cuda_glue.cc, the
// formula and the CPU kernel are in topk_kd_loss.cc).
//
// One thread block per row (grid-stride over rows), in the arithmetic of the inputs (float or double: the glue
// converts float16/bfloat16 logits to float32, as the CPU path does). Per row, with the same expressions as the CPU
// kernel:
//   1. the student's maximum m and sum z of exp((s − m)/T) over all C classes: per-thread online statistics merged
//      across the block;
//   2. the teacher's maximum and sum over its k entries, in double, merged the same way;
//   3. the loss Σ p̂ (log p̂ − log q_i) over the k entries (double, a block sum; p̂ = 0 terms skipped, as kl_div's
//      0·log 0 = 0), written to rowLoss[r];
//   4. with a gradient: grad = exp((s − m)/T)/z · gradScale over the row, then, after a barrier, p̂·gradScale
//      subtracted at each teacher index (atomically: repeated indices accumulate, as the CPU kernel's do; with distinct
//      indices each address has one writer, so the result does not depend on scheduling).
#include "kd_loss_cuda.h"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

namespace torchkd {
namespace kd {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float expOf(float x) { return expf(x); }
__device__ __forceinline__ double expOf(double x) { return exp(x); }

// Running maximum m and sum z of exp((x − m)·invT); NaN reaches z, −inf entries add nothing.
template <typename A>
struct MaxSum {
  A m, z;
};

template <typename A>
__device__ __forceinline__ void observe(MaxSum<A>& st, A x, A invT) {
  if (x > st.m) {
    st.z = (st.m == A(-INFINITY) ? A(0) : st.z * expOf((st.m - x) * invT)) + A(1);
    st.m = x;
  } else if (st.m != A(-INFINITY)) {
    st.z += expOf((x - st.m) * invT);
  } else if (x != x) {
    st.z += x;  // a NaN while the maximum is still −inf
  }
}

template <typename A>
__device__ __forceinline__ MaxSum<A> mergeMaxSum(MaxSum<A> a, MaxSum<A> b, A invT) {
  const A m = a.m > b.m ? a.m : b.m;
  if (m == A(-INFINITY)) return MaxSum<A>{m, a.z + b.z};  // 0, or NaN carried
  return MaxSum<A>{m, a.z * (a.m == A(-INFINITY) ? A(0) : expOf((a.m - m) * invT)) +
                          b.z * (b.m == A(-INFINITY) ? A(0) : expOf((b.m - m) * invT))};
}

// Block-wide merge; every thread gets the result. `shared` holds one entry per warp.
template <typename A>
__device__ MaxSum<A> blockMaxSum(MaxSum<A> st, A invT, MaxSum<A>* shared) {
  for (int lane = 16; lane > 0; lane >>= 1) {
    MaxSum<A> o{__shfl_xor_sync(0xffffffffu, st.m, lane), __shfl_xor_sync(0xffffffffu, st.z, lane)};
    st = mergeMaxSum(st, o, invT);
  }
  const int warp = threadIdx.x / 32, nWarps = blockDim.x / 32;
  if ((threadIdx.x & 31) == 0) shared[warp] = st;
  __syncthreads();
  MaxSum<A> r = shared[0];
  for (int w = 1; w < nWarps; w++) r = mergeMaxSum(r, shared[w], invT);  // the same order in every thread
  __syncthreads();
  return r;
}

__device__ double blockSum(double v, double* shared) {
  for (int lane = 16; lane > 0; lane >>= 1) v += __shfl_xor_sync(0xffffffffu, v, lane);
  const int warp = threadIdx.x / 32, nWarps = blockDim.x / 32;
  if ((threadIdx.x & 31) == 0) shared[warp] = v;
  __syncthreads();
  double r = 0;
  for (int w = 0; w < nWarps; w++) r += shared[w];
  __syncthreads();
  return r;
}

template <typename T, typename I>
__global__ void __launch_bounds__(kThreads) topkKdKernel(const T* __restrict__ s, const T* __restrict__ v,
                                                         const I* __restrict__ idx, T* __restrict__ grad,
                                                         double* __restrict__ rowLoss, int64_t rows, int64_t c,
                                                         int64_t k, double invTemperature, double gradScale) {
  __shared__ MaxSum<T> sharedT[kThreads / 32];
  __shared__ MaxSum<double> sharedD[kThreads / 32];
  __shared__ double sharedSum[kThreads / 32];
  const T invT = static_cast<T>(invTemperature);
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* sr = s + r * c;
    const T* vr = v + r * k;
    const I* ir = idx + r * k;
    MaxSum<T> st{T(-INFINITY), T(0)};
    for (int64_t j = threadIdx.x; j < c; j += blockDim.x) observe(st, sr[j], invT);
    const MaxSum<T> student = blockMaxSum(st, invT, sharedT);
    MaxSum<double> tt{-INFINITY, 0.0};
    for (int64_t i = threadIdx.x; i < k; i += blockDim.x) observe(tt, static_cast<double>(vr[i]), invTemperature);
    const MaxSum<double> teacher = blockMaxSum(tt, invTemperature, sharedD);
    const double ms = static_cast<double>(student.m), lnZa = log(static_cast<double>(student.z));
    const double lnZb = log(teacher.z);
    double part = 0;
    for (int64_t i = threadIdx.x; i < k; i += blockDim.x) {
      const double logP = (static_cast<double>(vr[i]) - teacher.m) * invTemperature - lnZb;
      const double p = exp(logP);
      if (p == 0) continue;
      const double logQ = (static_cast<double>(sr[ir[i]]) - ms) * invTemperature - lnZa;
      part += p * (logP - logQ);
    }
    const double loss = blockSum(part, sharedSum);
    if (threadIdx.x == 0) rowLoss[r] = loss;
    if (grad != nullptr) {
      T* gr = grad + r * c;
      const T a = static_cast<T>(gradScale / static_cast<double>(student.z));
      for (int64_t j = threadIdx.x; j < c; j += blockDim.x) gr[j] = expOf((sr[j] - student.m) * invT) * a;
      __syncthreads();
      for (int64_t i = threadIdx.x; i < k; i += blockDim.x) {
        const double p = exp((static_cast<double>(vr[i]) - teacher.m) * invTemperature - lnZb);
        atomicAdd(gr + ir[i], static_cast<T>(-p * gradScale));
      }
      __syncthreads();
    }
  }
}

template <typename T, typename I>
int launch(const void* s, const void* v, const void* idx, void* grad, double* rowLoss, int64_t rows, int64_t c,
           int64_t k, double invT, double gradScale, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  const unsigned blocks = static_cast<unsigned>(rows < 65535 * 8 ? rows : 65535 * 8);
  topkKdKernel<T, I><<<blocks, kThreads, 0, stream>>>(static_cast<const T*>(s), static_cast<const T*>(v),
                                                       static_cast<const I*>(idx), static_cast<T*>(grad), rowLoss, rows,
                                                       c, k, invT, gradScale);
  return cudaGetLastError();
}

}  // namespace

int launchTopkKdLoss(CudaDtype dtype, bool indices64, const void* student, const void* values, const void* indices,
                     void* grad, double* rowLoss, int64_t rows, int64_t cols, int64_t k, double invTemperature,
                     double gradScale, void* stream) {
  auto st = static_cast<cudaStream_t>(stream);
  if (dtype == CudaDtype::Float64)
    return indices64 ? launch<double, int64_t>(student, values, indices, grad, rowLoss, rows, cols, k, invTemperature, gradScale, st)
                     : launch<double, int32_t>(student, values, indices, grad, rowLoss, rows, cols, k, invTemperature, gradScale, st);
  if (dtype == CudaDtype::Float32)
    return indices64 ? launch<float, int64_t>(student, values, indices, grad, rowLoss, rows, cols, k, invTemperature, gradScale, st)
                     : launch<float, int32_t>(student, values, indices, grad, rowLoss, rows, cols, k, invTemperature, gradScale, st);
  return cudaErrorInvalidValue;  // the glue converts float16/bfloat16 to float32 first
}

}  // namespace kd
}  // namespace torchkd
