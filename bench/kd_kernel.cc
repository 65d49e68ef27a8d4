// The fused CPU KD kernel alone, without Node or libtorch: `bash bench/kd_kernel.sh [N C [fp32|bf16]]` builds this
// with the kernel source and runs it. Rows go to OpenMP threads in blocks, as kd_loss.cc hands them out; it prints the
// best and the median of 15 steps (loss and gradient, then loss only): what the kernel itself does on this machine.
#include "kd/kd_loss_cpu_kernel.h"

#include <omp.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

using torchkd::kd::kdHas16BitRows;
using torchkd::kd::kdRows16Bit;
using torchkd::kd::kdRowsFloat;
using torchkd::kd::kdStoreFence;

static double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  const long rows = argc > 1 ? atol(argv[1]) : 2048, cols = argc > 2 ? atol(argv[2]) : 32000;
  const bool bf16 = argc > 3 && strcmp(argv[3], "bf16") == 0;
  if (bf16 && !kdHas16BitRows()) {
    fprintf(stderr, "bf16 rows need AVX-512 here\n");
    return 1;
  }
  const size_t n = static_cast<size_t>(rows) * cols, bytes = n * (bf16 ? 2 : 4);
  auto* s = static_cast<float*>(aligned_alloc(1 << 21, n * 4));
  auto* t = static_cast<float*>(aligned_alloc(1 << 21, n * 4));
  auto* g = static_cast<float*>(aligned_alloc(1 << 21, n * 4));
  std::mt19937 rng(0);
  std::normal_distribution<float> normal(0, 3);
  for (size_t i = 0; i < n; i++) s[i] = normal(rng), t[i] = normal(rng);
  if (bf16) {  // the same values rounded to bfloat16, packed into the first half of each buffer
    auto round = [](float f) {
      uint32_t u;
      memcpy(&u, &f, 4);
      return static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
    };
    for (size_t i = 0; i < n; i++) {
      reinterpret_cast<uint16_t*>(s)[i] = round(s[i]);
      reinterpret_cast<uint16_t*>(t)[i] = round(t[i]);
    }
  }
  memset(g, 0, bytes);
  std::vector<double> rowLoss(rows);
  const float invT = 0.25f, gradScale = 1.0f / (4.0f * rows);
  // Rows [b, e) of the chosen dtype.
  auto runRows = [&](long b, long e, bool withGrad, float* scratch) {
    if (bf16) {
      auto* s16 = reinterpret_cast<const uint16_t*>(s) + b * cols;
      auto* t16 = reinterpret_cast<const uint16_t*>(t) + b * cols;
      kdRows16Bit(true, s16, t16, withGrad ? reinterpret_cast<uint16_t*>(g) + b * cols : nullptr, rowLoss.data() + b, e - b,
                  cols, invT, gradScale, scratch);
    } else {
      kdRowsFloat(s + b * cols, t + b * cols, withGrad ? g + b * cols : nullptr, rowLoss.data() + b, e - b, cols, invT,
                  gradScale, scratch);
    }
  };
  // Blocks of rows handed out from a shared counter, as the library's forRowBlocks does (kd_loss.cc); KD_STATIC=1
  // splits the rows evenly up front instead, for comparison.
  const bool evenSplit = getenv("KD_STATIC") != nullptr;
  const int threads = omp_get_max_threads();
  const long target = std::min<long>(std::max<long>(rows * cols / (16L * threads), 16384), 1L << 20);
  const long blockRows = std::max<long>(1, target / cols), blocks = (rows + blockRows - 1) / blockRows;
  for (int withGrad = 1; withGrad >= 0; withGrad--) {
    std::vector<double> times;
    for (int rep = 0; rep < 15; rep++) {
      const double t0 = now();
      std::atomic<long> nextBlock{0};
#pragma omp parallel
      {
        std::vector<float> scratch(4 * cols);
        if (evenSplit) {
          const int th = omp_get_thread_num(), nt = omp_get_num_threads();
          runRows(rows * th / nt, rows * (th + 1) / nt, withGrad, scratch.data());
        } else {
          for (long k; (k = nextBlock.fetch_add(1)) < blocks;) {
            const long b = k * blockRows;
            runRows(b, std::min(rows, b + blockRows), withGrad, scratch.data());
          }
        }
        kdStoreFence();
      }
      times.push_back(now() - t0);
    }
    std::sort(times.begin(), times.end());
    const double best = times[0], median = times[times.size() / 2];
    double loss = 0;
    for (double v : rowLoss) loss += v;
    printf("%ldx%ld %s, %d threads, %s: best of 15 %.2f ms = %.2f G elements/s, median %.2f ms = %.2f G elements/s "
           "(loss %.6f)\n",
           rows, cols, bf16 ? "bf16" : "fp32", threads, withGrad ? "loss and gradient" : "loss only", best * 1e3, n / best / 1e9, median * 1e3,
           n / median / 1e9, loss / rows);
  }
  return 0;
}
