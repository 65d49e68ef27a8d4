// The fused CPU KD kernel alone, without Node or libtorch: `bash bench/kd_kernel.sh [N C]` builds this with the
// kernel source and runs it. Rows go to OpenMP threads in blocks, as kd_loss.cc hands them out; it prints the
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

using torchkd::kd::kdRowsFloat;
using torchkd::kd::kdStoreFence;

static double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  const long rows = argc > 1 ? atol(argv[1]) : 2048, cols = argc > 2 ? atol(argv[2]) : 32000;
  const size_t n = static_cast<size_t>(rows) * cols;
  auto* s = static_cast<float*>(aligned_alloc(1 << 21, n * 4));
  auto* t = static_cast<float*>(aligned_alloc(1 << 21, n * 4));
  auto* g = static_cast<float*>(aligned_alloc(1 << 21, n * 4));
  std::mt19937 rng(0);
  std::normal_distribution<float> normal(0, 3);
  for (size_t i = 0; i < n; i++) s[i] = normal(rng), t[i] = normal(rng);
  memset(g, 0, n * 4);
  std::vector<double> rowLoss(rows);
  const float invT = 0.25f, gradScale = 1.0f / (4.0f * rows);
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
        float* g0 = withGrad ? g : nullptr;
        if (evenSplit) {
          const int th = omp_get_thread_num(), nt = omp_get_num_threads();
          const long b = rows * th / nt, e = rows * (th + 1) / nt;
          kdRowsFloat(s + b * cols, t + b * cols, g0 ? g0 + b * cols : nullptr, rowLoss.data() + b, e - b, cols, invT,
                      gradScale, scratch.data());
        } else {
          for (long k; (k = nextBlock.fetch_add(1)) < blocks;) {
            const long b = k * blockRows, e = std::min(rows, b + blockRows);
            kdRowsFloat(s + b * cols, t + b * cols, g0 ? g0 + b * cols : nullptr, rowLoss.data() + b, e - b, cols, invT,
                        gradScale, scratch.data());
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
    printf("%ldx%ld fp32, %d threads, %s: best of 15 %.2f ms = %.2f G elements/s, median %.2f ms = %.2f G elements/s "
           "(loss %.6f)\n",
           rows, cols, threads, withGrad ? "loss and gradient" : "loss only", best * 1e3, n / best / 1e9, median * 1e3,
           n / median / 1e9, loss / rows);
  }
  return 0;
}
