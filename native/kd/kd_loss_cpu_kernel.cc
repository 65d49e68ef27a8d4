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

constexpr int64_t kBlock = 2048;  // lane sums are folded into doubles every kBlock elements

// Explicit SIMD through GCC vector extensions: W floats per vector, compiled once per instruction set (AVX-512,
// AVX2+FMA, SSE2) and chosen at run time, so one binary uses the widest units the CPU has.
template <int W>
struct Vec {
  typedef float F __attribute__((vector_size(W * 4)));
  typedef int32_t I __attribute__((vector_size(W * 4)));
};

template <int W>
__attribute__((always_inline)) inline typename Vec<W>::F load(const float* p) {
  typename Vec<W>::F v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

template <int W>
__attribute__((always_inline)) inline void store(float* p, typename Vec<W>::F v) {
  __builtin_memcpy(p, &v, sizeof(v));
}

// exp(x) for x <= 0 (Cephes expf polynomial, ~1 ulp), branch-free: below -87.34 the result is 0 (exp underflows
// there anyway), NaN stays NaN, -inf gives 0.
template <int W>
__attribute__((always_inline)) inline typename Vec<W>::F expNonPositive(typename Vec<W>::F x) {
  using F = typename Vec<W>::F;
  using I = typename Vec<W>::I;
  const F lo = F{} + -87.33654f;
  const I under = x < lo;
  const F xc = under ? lo : x;
  // Round to nearest with the 1.5·2^23 trick (|x·log2 e| < 2^22 here).
  const F n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  F r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  F p = F{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const I bits = (__builtin_convertvector(n, I) + 127) << 23;
  F scale;
  __builtin_memcpy(&scale, &bits, sizeof(scale));
  const F out = p * scale;
  return under ? F{} : out;
}

template <int W>
__attribute__((always_inline)) inline float hsum(typename Vec<W>::F v) {
  float s = 0;
  for (int k = 0; k < W; k++) s += v[k];
  return s;
}

template <int W>
__attribute__((always_inline)) inline float hmax(typename Vec<W>::F v) {
  float m = v[0];
  for (int k = 1; k < W; k++) m = v[k] > m ? v[k] : m;
  return m;
}

template <int W, bool Keep>
__attribute__((always_inline)) inline double row(const float* __restrict s, const float* __restrict t, float* __restrict grad,
                                                 float* __restrict scratch, int64_t n, float invT, float gradScale) {
  using F = typename Vec<W>::F;
  const int64_t nv = n - n % W;
  // Sweep 1: maxima (invT > 0, so max(x·invT) = max(x)·invT).
  F vms = F{} + -INFINITY, vmt = F{} + -INFINITY;
  for (int64_t j = 0; j < nv; j += W) {
    const F a = load<W>(s + j), b = load<W>(t + j);
    vms = a > vms ? a : vms;
    vmt = b > vmt ? b : vmt;
  }
  float ms = hmax<W>(vms), mt = hmax<W>(vmt);
  for (int64_t j = nv; j < n; j++) {
    ms = s[j] > ms ? s[j] : ms;
    mt = t[j] > mt ? t[j] : mt;
  }
  const float offA = ms * invT, offB = mt * invT;
  // Sweep 2: exponentials, their sums, and w = Σ eb·(b − a) (terms with eb = 0 count 0: 0·log 0 = 0).
  double za = 0, zb = 0, w = 0;
  for (int64_t base = 0; base < nv; base += kBlock) {
    const int64_t end = base + kBlock < nv ? base + kBlock : nv;
    F vza = F{}, vzb = F{}, vw = F{};
    for (int64_t j = base; j < end; j += W) {
      const F a = load<W>(s + j) * invT - offA;
      const F b = load<W>(t + j) * invT - offB;
      const F x = expNonPositive<W>(a);
      const F y = expNonPositive<W>(b);
      vza += x;
      vzb += y;
      vw += y > 0.0f ? y * (b - a) : F{};
      if constexpr (Keep) {
        store<W>(scratch + j, x);
        store<W>(grad + j, y);
      }
    }
    za += hsum<W>(vza);
    zb += hsum<W>(vzb);
    w += hsum<W>(vw);
  }
  for (int64_t j = nv; j < n; j++) {
    typedef float F1 __attribute__((vector_size(4)));
    const float a = s[j] * invT - offA, b = t[j] * invT - offB;
    const float x = expNonPositive<1>(F1{a})[0], y = expNonPositive<1>(F1{b})[0];
    za += x;
    zb += y;
    if (y > 0.0f) w += y * (b - a);
    if constexpr (Keep) {
      scratch[j] = x;
      grad[j] = y;
    }
  }
  // Sweep 3: the gradient (q − p)·gradScale from the stored exponentials.
  if constexpr (Keep) {
    const float ia = static_cast<float>(gradScale / za), ib = static_cast<float>(gradScale / zb);
    for (int64_t j = 0; j < nv; j += W) store<W>(grad + j, load<W>(scratch + j) * ia - load<W>(grad + j) * ib);
    for (int64_t j = nv; j < n; j++) grad[j] = scratch[j] * ia - grad[j] * ib;
  }
  return w / zb - std::log(zb) + std::log(za);
}

template <int W>
__attribute__((always_inline)) inline double rowAny(const float* s, const float* t, float* grad, float* scratch, int64_t n,
                                                    float invT, float gradScale) {
  return grad ? row<W, true>(s, t, grad, scratch, n, invT, gradScale) : row<W, false>(s, t, nullptr, scratch, n, invT, gradScale);
}

__attribute__((target("avx512f"))) double row16(const float* s, const float* t, float* g, float* sc, int64_t n, float i, float gs) {
  return rowAny<16>(s, t, g, sc, n, i, gs);
}
__attribute__((target("avx2,fma"))) double row8(const float* s, const float* t, float* g, float* sc, int64_t n, float i, float gs) {
  return rowAny<8>(s, t, g, sc, n, i, gs);
}
double row4(const float* s, const float* t, float* g, float* sc, int64_t n, float i, float gs) {
  return rowAny<4>(s, t, g, sc, n, i, gs);
}

int simdLevel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return 2;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
  return 0;
}

}  // namespace

double kdRowFloat(const float* s, const float* t, float* grad, float* scratch, int64_t n, float invT, float gradScale) {
  static const int level = simdLevel();
  switch (level) {
    case 2: return row16(s, t, grad, scratch, n, invT, gradScale);
    case 1: return row8(s, t, grad, scratch, n, invT, gradScale);
    default: return row4(s, t, grad, scratch, n, invT, gradScale);
  }
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
