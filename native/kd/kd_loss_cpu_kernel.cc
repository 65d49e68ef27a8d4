// Fused KD loss, CPU row kernel. See kd_loss_cpu_kernel.h.
//
// Per row, with a = s/T - max(s/T) and b = t/T - max(t/T) (both <= 0):
//   sweep 1: the two maxima;
//   sweep 2: ea = exp(a), eb = exp(b), za = Σ ea, zb = Σ eb, w = Σ eb·(b - a) (terms with eb = 0 count 0, which is
//            PyTorch's 0·log 0 = 0 and makes a -inf teacher logit contribute nothing); ea and eb are kept
//            (scratch and the gradient row), so each exponential is computed once;
//   sweep 3: grad = (ea/za - eb/zb) · gradScale.
// KL = Σ p (log p - log q) = w/zb - log zb + log za. The row stays in cache between sweeps.
#include "kd_loss_cpu_kernel.h"

#include <cmath>
#include <cstring>

namespace torchkd {
namespace kd {
namespace {

// exp(x) for x <= 0 (Cephes expf polynomial, ~1 ulp); written branch-free so the loops around it vectorise.
inline float expNonPositive(float x) {
  const float lo = -87.33654f;                   // exp(lo) is the smallest normal float
  float xc = x < lo ? lo : x;                    // NaN passes through (comparison is false)
  float n = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, sizeof(scale));
  float out = p * scale;
  return x < lo ? 0.0f : out;
}

constexpr int64_t kBlock = 2048;  // partial sums are folded into doubles every kBlock elements

}  // namespace

__attribute__((target_clones("avx512f", "avx2", "default")))
double kdRowFloat(const float* __restrict s, const float* __restrict t, float* __restrict grad,
                  float* __restrict scratch, int64_t n, float invT, float gradScale) {
  float ms = -INFINITY, mt = -INFINITY;
#pragma omp simd reduction(max : ms, mt)
  for (int64_t j = 0; j < n; j++) {
    ms = s[j] > ms ? s[j] : ms;
    mt = t[j] > mt ? t[j] : mt;
  }
  // invT > 0, so max(x·invT) = max(x)·invT.
  const float offA = ms * invT, offB = mt * invT;
  double za = 0, zb = 0, w = 0;
  float* eaOut = scratch;
  float* ebOut = grad ? grad : scratch + 0;  // without a gradient only the sums are needed
  const bool keep = grad != nullptr;
  for (int64_t base = 0; base < n; base += kBlock) {
    const int64_t end = base + kBlock < n ? base + kBlock : n;
    float pza = 0, pzb = 0, pw = 0;
    // omp simd (compiled with -fopenmp-simd, no OpenMP runtime) lets these float sums be split across lanes.
#pragma omp simd reduction(+ : pza, pzb, pw)
    for (int64_t j = base; j < end; j++) {
      float a = s[j] * invT - offA;
      float b = t[j] * invT - offB;
      float ea = expNonPositive(a);
      float eb = expNonPositive(b);
      pza += ea;
      pzb += eb;
      pw += eb > 0.0f ? eb * (b - a) : 0.0f;
      if (keep) {
        eaOut[j] = ea;
        ebOut[j] = eb;
      }
    }
    za += pza;
    zb += pzb;
    w += pw;
  }
  if (keep) {
    const float ia = static_cast<float>(gradScale / za), ib = static_cast<float>(gradScale / zb);
#pragma omp simd
    for (int64_t j = 0; j < n; j++) grad[j] = eaOut[j] * ia - grad[j] * ib;
  }
  return w / zb - std::log(zb) + std::log(za);
}

double kdRowDouble(const double* __restrict s, const double* __restrict t, double* __restrict grad, int64_t n,
                   double invT, double gradScale) {
  double ms = -INFINITY, mt = -INFINITY;
  for (int64_t j = 0; j < n; j++) {
    ms = s[j] > ms ? s[j] : ms;
    mt = t[j] > mt ? t[j] : mt;
  }
  const double offA = ms * invT, offB = mt * invT;
  double za = 0, zb = 0, w = 0;
  for (int64_t j = 0; j < n; j++) {
    double a = s[j] * invT - offA, b = t[j] * invT - offB;
    double ea = std::exp(a), eb = std::exp(b);
    za += ea;
    zb += eb;
    if (eb > 0) w += eb * (b - a);
  }
  if (grad) {
    for (int64_t j = 0; j < n; j++) {
      double a = s[j] * invT - offA, b = t[j] * invT - offB;
      grad[j] = (std::exp(a) / za - std::exp(b) / zb) * gradScale;
    }
  }
  return w / zb - std::log(zb) + std::log(za);
}

}  // namespace kd
}  // namespace torchkd
