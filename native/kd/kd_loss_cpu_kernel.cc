// Fused KD loss, CPU row kernel. See kd_loss_cpu_kernel.h.
//
// Per row, in base 2 (k = log2(e)/T, a = s·k − max(s)·k and b = t·k − max(t)·k, both <= 0; see offsetsExact for rows
// whose maxima are huge, e.g. a whole row masked with −1e10 or finfo.min):
//   sweep 1: the two maxima (the row streams in from memory; its prefetch was issued during the previous row);
//   sweep 2: x = 2^a, y = 2^b, za = Σ x, zb = Σ y, w = Σ y·(b − a) (terms with y = 0 count 0, which is PyTorch's
//            0·log 0 = 0 and makes a −inf teacher logit contribute nothing); x and y go to per-thread scratch, so each
//            exponential is computed once, and the next row is prefetched;
//   sweep 3: grad = (x/za − y/zb) · gradScale. On AVX-512 this sweep is folded into the next row's sweep 2 (software
//            pipelining, streaming stores), so the gradient's write traffic overlaps the arithmetic.
// KL = Σ p (log p − log q) = ln 2 · w/zb − ln zb + ln za. Sweeps 2 and 3 run on cache-resident data.
#include "kd_loss_cpu_kernel.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TORCHKD_X86 1
#endif

// Vector types wider than the baseline ABI only live inside functions compiled for them; GCC 12's AVX-512 headers
// trip -Wuninitialized on their own _mm512_undefined_ps.
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace torchkd {
namespace kd {
namespace {

constexpr int64_t kBlock = 2048;  // lane sums are folded into doubles every kBlock elements
constexpr double kLn2 = 0.69314718055994530942;
constexpr float kLog2e = 1.44269504088896341f;

// Whether a row needs a = (s − max(s))·k instead of the one-FMA form s·k − RN(max(s)·k). The FMA form leaves the row's
// largest logit at the rounding error of max·k instead of 0; that error shifts every term of the row alike and
// cancels, as long as it is small. Past 2^24 it can reach hundreds (a row masked with −1e10 at T = 1: +440), and
// 2^440 overflows: NaN where PyTorch gives a uniform softmax; max·k can also overflow itself (finfo.min at T = 1).
// Rows like that (and rows with an infinite or NaN maximum) take the subtract-first form, exact 0 at the maximum.
inline bool offsetsExact(float ms, float mt, float k) {
  return !(std::fabs(ms * k) < 0x1p24f && std::fabs(mt * k) < 0x1p24f);
}

// 2^r on [-1/2, 1/2]: a degree-6 near-minimax fit, relative error <= 1e-7 when evaluated in float.
constexpr float kP6 = 1.534581242594868e-4f, kP5 = 1.3399930903688073e-3f, kP4 = 9.618489071726799e-3f,
                kP3 = 5.550328642129898e-2f, kP2 = 2.4022646248340607e-1f, kP1 = 6.931471824645996e-1f;

// Prefetch into L2 the part of the next row that corresponds to elements [from, to) of this one.
inline void prefetchNext(const NextRow& next, int64_t from, int64_t to, int64_t n) {
  if (!next.s) return;
  const int64_t lo = from * next.bytes / n, hi = to * next.bytes / n;
  const char* ps = static_cast<const char*>(next.s);
  const char* pt = static_cast<const char*>(next.t);
  for (int64_t off = lo & ~int64_t(63); off < hi; off += 64) {
    __builtin_prefetch(ps + off, 0, 2);
    __builtin_prefetch(pt + off, 0, 2);
  }
}

// ---- Portable path: GCC vector extensions, W floats per vector (AVX2+FMA and SSE2 clones on x86) ----------------
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

// 2^u for u <= 0, branch-free: below −126 the result is 0 (where float would turn subnormal), NaN stays NaN, −inf
// gives 0.
template <int W>
__attribute__((always_inline)) inline typename Vec<W>::F exp2NonPositive(typename Vec<W>::F u) {
  using F = typename Vec<W>::F;
  using I = typename Vec<W>::I;
  const I under = u < -126.0f;
  const F uc = under ? F{} + -126.0f : u;
  const F n = (uc + 12582912.0f) - 12582912.0f;  // round to nearest with the 1.5·2^23 trick (|u| <= 126)
  const F r = uc - n;
  F p = F{} + kP6;
  p = p * r + kP5;
  p = p * r + kP4;
  p = p * r + kP3;
  p = p * r + kP2;
  p = p * r + kP1;
  p = p * r + 1.0f;
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

inline float exp2Scalar(float u) {
  typedef float F1 __attribute__((vector_size(4)));
  return exp2NonPositive<1>(F1{u})[0];
}

// The row's logits in base 2, relative to its maxima: s·k − ms·k (one FMA where the compiler contracts it), or, for
// rows with huge maxima (offsetsExact), (s − ms)·k.
template <bool Exact>
struct Offset {
  float k, ms, mt;
  // V: a float or a vector of them.
  template <typename V> __attribute__((always_inline)) V a(V x) const { return rel(x, ms); }
  template <typename V> __attribute__((always_inline)) V b(V x) const { return rel(x, mt); }
  template <typename V> __attribute__((always_inline)) V rel(V x, float m) const { return Exact ? (x - m) * k : x * k - m * k; }
};

// Sweeps 2 and 3 of a row whose maxima are known.
template <int W, bool Exact>
__attribute__((always_inline)) inline double rowVecSweeps(const float* __restrict s, const float* __restrict t,
                                                          float* __restrict grad, float* __restrict scratch, int64_t n,
                                                          const Offset<Exact>& off, float gradScale,
                                                          const NextRow& next) {
  using F = typename Vec<W>::F;
  const int64_t nv = n - n % W;
  float* sx = scratch;
  float* sy = scratch + n;
  double za = 0, zb = 0, w = 0;
  for (int64_t base = 0; base < nv; base += kBlock) {
    const int64_t end = base + kBlock < nv ? base + kBlock : nv;
    F vza = F{}, vzb = F{}, vw = F{};
    for (int64_t j = base; j < end; j += W) {
      const F a = off.a(load<W>(s + j));
      const F b = off.b(load<W>(t + j));
      const F x = exp2NonPositive<W>(a);
      const F y = exp2NonPositive<W>(b);
      vza += x;
      vzb += y;
      vw += y > 0.0f ? y * (b - a) : F{};
      if (grad) {
        store<W>(sx + j, x);
        store<W>(sy + j, y);
      }
    }
    za += hsum<W>(vza);
    zb += hsum<W>(vzb);
    w += hsum<W>(vw);
    prefetchNext(next, base, end, n);
  }
  for (int64_t j = nv; j < n; j++) {
    const float a = off.a(s[j]), b = off.b(t[j]);
    const float x = exp2Scalar(a), y = exp2Scalar(b);
    za += x;
    zb += y;
    if (y > 0.0f) w += y * (b - a);
    if (grad) sx[j] = x, sy[j] = y;
  }
  prefetchNext(next, nv, n, n);
  if (grad) {
    const float ia = static_cast<float>(gradScale / za), ib = static_cast<float>(gradScale / zb);
    for (int64_t j = 0; j < nv; j += W) store<W>(grad + j, load<W>(sx + j) * ia - load<W>(sy + j) * ib);
    for (int64_t j = nv; j < n; j++) grad[j] = sx[j] * ia - sy[j] * ib;
  }
  return w * kLn2 / zb - std::log(zb) + std::log(za);
}

template <int W>
__attribute__((always_inline)) inline double rowVec(const float* __restrict s, const float* __restrict t,
                                                    float* __restrict grad, float* __restrict scratch, int64_t n,
                                                    float invT, float gradScale, const NextRow& next) {
  using F = typename Vec<W>::F;
  const int64_t nv = n - n % W;
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
  const float k = invT * kLog2e;
  if (offsetsExact(ms, mt, k)) return rowVecSweeps<W, true>(s, t, grad, scratch, n, Offset<true>{k, ms, mt}, gradScale, next);
  return rowVecSweeps<W, false>(s, t, grad, scratch, n, Offset<false>{k, ms, mt}, gradScale, next);
}

// kdRowExpSum: the row's maximum, then Σ 2^((s − m)·k) (subtract first: exact 0 at the maximum for any m).
template <int W>
__attribute__((always_inline)) inline double expSumVec(const float* __restrict s, float* __restrict x, int64_t n,
                                                       float invT, float* maxOut) {
  using F = typename Vec<W>::F;
  const int64_t nv = n - n % W;
  F vm = F{} + -INFINITY;
  for (int64_t j = 0; j < nv; j += W) {
    const F a = load<W>(s + j);
    vm = a > vm ? a : vm;
  }
  float m = hmax<W>(vm);
  for (int64_t j = nv; j < n; j++) m = s[j] > m ? s[j] : m;
  *maxOut = m;
  const float k = invT * kLog2e;
  double z = 0;
  for (int64_t base = 0; base < nv; base += kBlock) {
    const int64_t end = base + kBlock < nv ? base + kBlock : nv;
    F vz = F{};
    for (int64_t j = base; j < end; j += W) {
      const F e = exp2NonPositive<W>((load<W>(s + j) - m) * k);
      vz += e;
      if (x) store<W>(x + j, e);
    }
    z += hsum<W>(vz);
  }
  for (int64_t j = nv; j < n; j++) {
    const float e = exp2Scalar((s[j] - m) * k);
    z += e;
    if (x) x[j] = e;
  }
  return z;
}

#if TORCHKD_X86
__attribute__((target("avx2,fma"))) double row8(const float* s, const float* t, float* g, float* sc, int64_t n, float i,
                                               float gs, const NextRow& next) {
  return rowVec<8>(s, t, g, sc, n, i, gs, next);
}
__attribute__((target("avx2,fma"))) double expSum8(const float* s, float* x, int64_t n, float invT, float* m) {
  return expSumVec<8>(s, x, n, invT, m);
}
#endif
double expSumPortable(const float* s, float* x, int64_t n, float invT, float* m) { return expSumVec<4>(s, x, n, invT, m); }
double rowPortable(const float* s, const float* t, float* g, float* sc, int64_t n, float i, float gs, const NextRow& next) {
  return rowVec<4>(s, t, g, sc, n, i, gs, next);
}

// ---- AVX-512 path: intrinsics (2^u in nine instructions), masked tails, streaming stores -------------------------
#if TORCHKD_X86
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,fma")

inline __m512 exp2NonPositive512(__m512 u) {
  // u = n + r with n = round(u) (roundscale) and r = u − n in [−1/2, 1/2] (reduce): two independent instructions.
  // No clamp is needed: for u = −inf, reduce gives r = 0 and scalef(p, −inf) = 0; anything below −150 scales to
  // exactly 0; NaN stays NaN through both.
  const __m512 n = _mm512_roundscale_ps(u, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_reduce_ps(u, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 p = _mm512_set1_ps(kP6);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP5));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

inline __mmask16 tailMask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
}

// Element types in memory: 16 of them load as one float vector and store from one, rounding to nearest even; the
// 16-bit types move half the bytes and are converted in registers (bf16 is the top half of a float).
struct F32 {
  using T = float;
  static __m512 load(const float* p) { return _mm512_loadu_ps(p); }
  static __m512 load(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, __m512 v, __mmask16 m, bool stream) {
    if (stream && m == 0xFFFF) _mm512_stream_ps(p, v);
    else _mm512_mask_storeu_ps(p, m, v);
  }
};

struct Bf16 {
  using T = uint16_t;
  static __m512 widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
  static __m512 load(const uint16_t* p) { return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static __m512 load(const uint16_t* p, __mmask16 m) { return widen(_mm256_maskz_loadu_epi16(m, p)); }
  static __m256i narrow(__m512 v) {
    // c10::BFloat16's rounding: add 0x7FFF plus the lowest kept bit, keep the top half; NaN becomes 0x7FC0.
    const __m512i u = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(r, nan, _mm512_set1_epi32(0x7FC0)));
  }
  static void store(uint16_t* p, __m512 v, __mmask16 m, bool stream) {
    const __m256i h = narrow(v);
    if (stream && m == 0xFFFF) _mm256_stream_si256(reinterpret_cast<__m256i*>(p), h);
    else _mm256_mask_storeu_epi16(p, m, h);
  }
};

struct F16 {
  using T = uint16_t;
  static __m512 load(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static __m512 load(const uint16_t* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
  static void store(uint16_t* p, __m512 v, __mmask16 m, bool stream) {
    const __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    if (stream && m == 0xFFFF) _mm256_stream_si256(reinterpret_cast<__m256i*>(p), h);
    else _mm256_mask_storeu_epi16(p, m, h);
  }
};

// A gradient row waiting to be written: g = x·ia − y·ib from the stored exponentials x, y of that row.
template <typename E>
struct PendingGrad {
  const float* x = nullptr;
  const float* y = nullptr;
  typename E::T* g = nullptr;
  float ia = 0, ib = 0;
};

// 16 gradient values of a pending row at j (fewer at the tail), streamed when the row is aligned for it (then every
// 16-element step is), else stored plainly.
template <typename E>
inline void emit16(const PendingGrad<E>& p, int64_t j, __mmask16 m, bool stream) {
  const __m512 g = _mm512_fmsub_ps(_mm512_maskz_loadu_ps(m, p.x + j), _mm512_set1_ps(p.ia),
                                   _mm512_mul_ps(_mm512_maskz_loadu_ps(m, p.y + j), _mm512_set1_ps(p.ib)));
  E::store(p.g + j, g, m, stream);
}

template <typename E>
bool streamable(const typename E::T* g) {
  return (reinterpret_cast<uintptr_t>(g) & (16 * sizeof(typename E::T) - 1)) == 0;
}

struct RowStats {
  double za, zb, w;
};

// Sweep 2 of one row whose maxima are known (xy: 2·n floats for x and y, or null when no gradient is wanted). While
// the exponentials are computed, the previous row's gradient is written (`prev`, interleaved so its stores drain
// during arithmetic) and the next row is prefetched. Exact: a = (s − ms)·k for rows with huge maxima (offsetsExact),
// else one FMA, s·k − ms·k.
template <typename E, bool Exact>
RowStats row16Sweep(const typename E::T* __restrict s, const typename E::T* __restrict t, float* __restrict xy, int64_t n,
                    float ms, float mt, float k, const NextRow& next, const PendingGrad<E>* prev) {
  const __m512 vk = _mm512_set1_ps(k);
  const __m512 oa = _mm512_set1_ps(Exact ? ms : -(ms * k)), ob = _mm512_set1_ps(Exact ? mt : -(mt * k));
  float* sx = xy;
  float* sy = xy ? xy + n : nullptr;
  const bool stream = prev && streamable<E>(prev->g);
  RowStats st{0, 0, 0};
  for (int64_t base = 0; base < n; base += kBlock) {
    const int64_t end = base + kBlock < n ? base + kBlock : n;
    __m512 vza = _mm512_setzero_ps(), vzb = vza, vw = vza;
    // One vector of 16 logits; full vectors run unmasked in the loop, the masked tail once after it.
    auto step = [&](int64_t j, __mmask16 m, bool full) __attribute__((always_inline)) {
      const __m512 xs = full ? E::load(s + j) : E::load(s + j, m), xt = full ? E::load(t + j) : E::load(t + j, m);
      const __m512 a = Exact ? _mm512_mul_ps(_mm512_sub_ps(xs, oa), vk) : _mm512_fmadd_ps(xs, vk, oa);
      const __m512 b = Exact ? _mm512_mul_ps(_mm512_sub_ps(xt, ob), vk) : _mm512_fmadd_ps(xt, vk, ob);
      __m512 x = exp2NonPositive512(a);
      __m512 y = exp2NonPositive512(b);
      if (!full) x = _mm512_maskz_mov_ps(m, x), y = _mm512_maskz_mov_ps(m, y);
      vza = _mm512_add_ps(vza, x);
      vzb = _mm512_add_ps(vzb, y);
      const __mmask16 live = _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_GT_OQ);  // 0·log 0 = 0
      vw = _mm512_mask3_fmadd_ps(y, _mm512_sub_ps(b, a), vw, live);
      if (sx) {
        if (full) _mm512_storeu_ps(sx + j, x), _mm512_storeu_ps(sy + j, y);
        else _mm512_mask_storeu_ps(sx + j, m, x), _mm512_mask_storeu_ps(sy + j, m, y);
      }
      if (prev) emit16<E>(*prev, j, m, stream);
    };
    int64_t j = base;
    for (; j + 16 <= end; j += 16) step(j, 0xFFFF, true);
    if (j < end) step(j, tailMask(end - j), false);
    st.za += _mm512_reduce_add_ps(vza);
    st.zb += _mm512_reduce_add_ps(vzb);
    st.w += _mm512_reduce_add_ps(vw);
    prefetchNext(next, base, end, n);
  }
  return st;
}

// Sweeps 1 and 2 of one row: its maxima, then row16Sweep.
template <typename E>
RowStats row16Stats(const typename E::T* __restrict s, const typename E::T* __restrict t, float* __restrict xy, int64_t n,
                    float invT, const NextRow& next, const PendingGrad<E>* prev) {
  __m512 vms = _mm512_set1_ps(-INFINITY), vmt = vms;
  int64_t j0 = 0;
  for (; j0 + 16 <= n; j0 += 16) {
    vms = _mm512_max_ps(vms, E::load(s + j0));
    vmt = _mm512_max_ps(vmt, E::load(t + j0));
  }
  if (j0 < n) {
    const __mmask16 m = tailMask(n - j0);
    vms = _mm512_mask_max_ps(vms, m, vms, E::load(s + j0, m));
    vmt = _mm512_mask_max_ps(vmt, m, vmt, E::load(t + j0, m));
  }
  const float ms = _mm512_reduce_max_ps(vms), mt = _mm512_reduce_max_ps(vmt);
  const float k = invT * kLog2e;
  if (offsetsExact(ms, mt, k)) return row16Sweep<E, true>(s, t, xy, n, ms, mt, k, next, prev);
  return row16Sweep<E, false>(s, t, xy, n, ms, mt, k, next, prev);
}

double rowLossOf(const RowStats& st) { return st.w * kLn2 / st.zb - std::log(st.zb) + std::log(st.za); }

// Consecutive rows, software-pipelined: row r's gradient is written during row r + 1's exponentials, with streaming
// stores, so the output traffic overlaps arithmetic instead of stalling at the end of each row. scratch: 4·n floats
// (x and y of two rows, alternating).
template <typename E>
void rows16(const typename E::T* s, const typename E::T* t, typename E::T* grad, double* rowLoss, int64_t rows, int64_t n,
            float invT, float gradScale, float* scratch) {
  PendingGrad<E> pending;
  bool havePending = false;
  for (int64_t r = 0; r < rows; r++) {
    NextRow next;
    if (r + 1 < rows) next = NextRow{s + (r + 1) * n, t + (r + 1) * n, n * static_cast<int64_t>(sizeof(typename E::T))};
    float* xy = grad ? scratch + (r & 1) * 2 * n : nullptr;
    const RowStats st = row16Stats<E>(s + r * n, t + r * n, xy, n, invT, next, havePending ? &pending : nullptr);
    rowLoss[r] = rowLossOf(st);
    if (grad) {
      pending = PendingGrad<E>{xy, xy + n, grad + r * n, static_cast<float>(gradScale / st.za), static_cast<float>(gradScale / st.zb)};
      havePending = true;
    }
  }
  if (havePending) {
    const bool stream = streamable<E>(pending.g);
    for (int64_t j = 0; j < n; j += 16) emit16<E>(pending, j, tailMask(n - j), stream);
  }
}

// kdRowExpSum on AVX-512: the row's maximum, then Σ 2^((s − m)·k) with masked tails.
double expSum512(const float* s, float* x, int64_t n, float invT, float* maxOut) {
  __m512 vm = _mm512_set1_ps(-INFINITY);
  int64_t j0 = 0;
  for (; j0 + 16 <= n; j0 += 16) vm = _mm512_max_ps(vm, _mm512_loadu_ps(s + j0));
  if (j0 < n) {
    const __mmask16 m = tailMask(n - j0);
    vm = _mm512_mask_max_ps(vm, m, vm, _mm512_maskz_loadu_ps(m, s + j0));
  }
  const float mx = _mm512_reduce_max_ps(vm);
  *maxOut = mx;
  const __m512 vk = _mm512_set1_ps(invT * kLog2e), vmx = _mm512_set1_ps(mx);
  double z = 0;
  for (int64_t base = 0; base < n; base += kBlock) {
    const int64_t end = base + kBlock < n ? base + kBlock : n;
    __m512 vz = _mm512_setzero_ps();
    for (int64_t j = base; j < end; j += 16) {
      const __mmask16 m = tailMask(end - j);
      const __m512 e = _mm512_maskz_mov_ps(m, exp2NonPositive512(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), vmx), vk)));
      vz = _mm512_add_ps(vz, e);
      if (x) _mm512_mask_storeu_ps(x + j, m, e);
    }
    z += _mm512_reduce_add_ps(vz);
  }
  return z;
}

#pragma GCC pop_options
#endif

// The widest instruction set present, capped by TORCHKD_KD_SIMD=avx2|portable (tests run every path this way).
int simdLevel() {
  int level = 0;
#if TORCHKD_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    level = 2;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = 1;
#endif
  if (const char* cap = std::getenv("TORCHKD_KD_SIMD")) {
    if (std::strcmp(cap, "avx2") == 0 && level > 1) level = 1;
    if (std::strcmp(cap, "portable") == 0) level = 0;
  }
  return level;
}

const int kSimdLevel = simdLevel();

}  // namespace

double kdRowFloat(const float* s, const float* t, float* grad, float* scratch, int64_t n, float invT, float gradScale,
                  const NextRow& next) {
  switch (kSimdLevel) {
#if TORCHKD_X86
    case 2:  // AVX-512 machines take the row pipeline (kdRowsFloat, kdRows16Bit); a single row here uses AVX2
    case 1: return row8(s, t, grad, scratch, n, invT, gradScale, next);
#endif
    default: return rowPortable(s, t, grad, scratch, n, invT, gradScale, next);
  }
}

void kdRowsFloat(const float* s, const float* t, float* grad, double* rowLoss, int64_t rows, int64_t n, float invT,
                 float gradScale, float* scratch) {
#if TORCHKD_X86
  if (kSimdLevel == 2) {
    rows16<F32>(s, t, grad, rowLoss, rows, n, invT, gradScale, scratch);
    return;
  }
#endif
  for (int64_t r = 0; r < rows; r++) {
    NextRow next;
    if (r + 1 < rows) next = NextRow{s + (r + 1) * n, t + (r + 1) * n, n * 4};
    rowLoss[r] = kdRowFloat(s + r * n, t + r * n, grad ? grad + r * n : nullptr, scratch, n, invT, gradScale, next);
  }
}

double kdRowExpSum(const float* s, float* x, int64_t n, float invT, float* maxOut) {
  switch (kSimdLevel) {
#if TORCHKD_X86
    case 2: return expSum512(s, x, n, invT, maxOut);
    case 1: return expSum8(s, x, n, invT, maxOut);
#endif
    default: return expSumPortable(s, x, n, invT, maxOut);
  }
}

bool kdHas16BitRows() { return kSimdLevel == 2; }

const char* kdSimdName() { return kSimdLevel == 2 ? "avx512" : kSimdLevel == 1 ? "avx2" : "portable"; }

void kdRows16Bit(bool bf16, const uint16_t* s, const uint16_t* t, uint16_t* grad, double* rowLoss, int64_t rows, int64_t n,
                 float invT, float gradScale, float* scratch) {
#if TORCHKD_X86
  if (bf16) rows16<Bf16>(s, t, grad, rowLoss, rows, n, invT, gradScale, scratch);
  else rows16<F16>(s, t, grad, rowLoss, rows, n, invT, gradScale, scratch);
#else
  (void)bf16, (void)s, (void)t, (void)grad, (void)rowLoss, (void)rows, (void)n, (void)invT, (void)gradScale, (void)scratch;
#endif
}

void kdStoreFence() {
#if TORCHKD_X86
  _mm_sfence();
#endif
}

double kdRowDouble(const double* __restrict s, const double* __restrict t, double* __restrict grad, int64_t n,
                   double invT, double gradScale) {
  double ms = -INFINITY, mt = -INFINITY;
  for (int64_t j = 0; j < n; j++) {
    ms = s[j] > ms ? s[j] : ms;
    mt = t[j] > mt ? t[j] : mt;
  }
  // As offsetsExact for float: subtract first where the maxima are huge (or the product overflows).
  const bool exact = !(std::fabs(ms * invT) < 0x1p52 && std::fabs(mt * invT) < 0x1p52);
  const double offA = exact ? ms : ms * invT, offB = exact ? mt : mt * invT;
  const double kIn = exact ? 1.0 : invT, kOut = exact ? invT : 1.0;
  double za = 0, zb = 0, w = 0;
  for (int64_t j = 0; j < n; j++) {
    double a = (s[j] * kIn - offA) * kOut, b = (t[j] * kIn - offB) * kOut;
    double ea = std::exp(a), eb = std::exp(b);
    za += ea;
    zb += eb;
    if (eb > 0) w += eb * (b - a);
  }
  if (grad) {
    for (int64_t j = 0; j < n; j++) {
      double a = (s[j] * kIn - offA) * kOut, b = (t[j] * kIn - offB) * kOut;
      grad[j] = (std::exp(a) / za - std::exp(b) / zb) * gradScale;
    }
  }
  return w / zb - std::log(zb) + std::log(za);
}

}  // namespace kd
}  // namespace torchkd
