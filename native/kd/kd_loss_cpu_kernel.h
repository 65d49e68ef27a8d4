// The per-row CPU kernel of the fused KD loss, in plain loops that GCC vectorises (AVX-512 / AVX2 / SSE2 clones
// chosen at load time through target_clones, so one binary runs on any x86-64 and uses the widest units present).
#pragma once

#include <cstdint>

namespace torchkd {
namespace kd {

// One row of `n` float logits. Returns the row's KL(p || q) with p = softmax(t·invT), q = softmax(s·invT).
// When grad != nullptr, writes grad[j] = (q_j - p_j) * gradScale; `scratch` holds n floats.
double kdRowFloat(const float* s, const float* t, float* grad, float* scratch, int64_t n, float invT, float gradScale);

// The same in double precision (fp64 inputs), scalar exp.
double kdRowDouble(const double* s, const double* t, double* grad, int64_t n, double invT, double gradScale);

}  // namespace kd
}  // namespace torchkd
