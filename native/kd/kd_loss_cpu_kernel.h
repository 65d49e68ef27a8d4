// The per-row CPU kernel of the fused KD loss: explicit SIMD, one binary for any x86-64 (AVX-512 intrinsics, or
// AVX2+FMA / SSE2 through GCC vector extensions, chosen at run time) and portable vector code elsewhere.
#pragma once

#include <cstdint>

namespace torchkd {
namespace kd {

// The next row's inputs, prefetched into L2 while this row is computed (so the memory system keeps streaming while
// the cores do arithmetic). `bytes` is the size of each of s and t; null pointers mean none.
struct NextRow {
  const void* s = nullptr;
  const void* t = nullptr;
  int64_t bytes = 0;
};

// One row of `n` float logits. Returns the row's KL(p || q) with p = softmax(t·invT), q = softmax(s·invT).
// When grad != nullptr, writes grad[j] = (q_j - p_j) * gradScale; `scratch` holds 2·n floats. The per-row path (AVX2
// or portable vectors); the AVX-512 kernel works on runs of rows (kdRowsFloat, kdRows16Bit).
double kdRowFloat(const float* s, const float* t, float* grad, float* scratch, int64_t n, float invT, float gradScale,
                  const NextRow& next);

// `rows` consecutive rows of `n` float logits (row-major): rowLoss[r] and, when grad != nullptr, the gradient rows.
// Pipelined where the instruction set allows (each row's gradient is written, with streaming stores, while the next
// row is computed): call kdStoreFence() before other threads read the gradient. `scratch` holds 4·n floats.
void kdRowsFloat(const float* s, const float* t, float* grad, double* rowLoss, int64_t rows, int64_t n, float invT,
                 float gradScale, float* scratch);

// The same for bfloat16 (bf16 = true) or float16 rows, read and written in their own format and computed in float
// (gradient rounded to nearest even, as c10's conversions do). Only where kdHas16BitRows() (AVX-512); elsewhere widen
// rows to float and use kdRowFloat.
bool kdHas16BitRows();

// The instruction set the CPU kernel uses: "avx512", "avx2" or "portable" (after the TORCHKD_KD_SIMD cap).
const char* kdSimdName();
void kdRows16Bit(bool bf16, const uint16_t* s, const uint16_t* t, uint16_t* grad, double* rowLoss, int64_t rows, int64_t n,
                 float invT, float gradScale, float* scratch);

// Orders the kernel's non-temporal stores before later loads and stores (a no-op where none are used).
void kdStoreFence();

// One row of `n` float logits for a loss that needs only the student's softmax (the top-k KD loss): returns
// Σ_j exp((s_j − m)/T) with m = max(s), written to *maxOut; when x != nullptr, also x_j = exp((s_j − m)/T).
double kdRowExpSum(const float* s, float* x, int64_t n, float invT, float* maxOut);

// The same in double precision (fp64 inputs), scalar exp.
double kdRowDouble(const double* s, const double* t, double* grad, int64_t n, double invT, double gradScale);

}  // namespace kd
}  // namespace torchkd
