// The fused CPU KD kernel alone, without Node or libtorch: `bash bench/kd_kernel.sh [N C]` builds this with the
// kernel source and runs it. Rows are split over OpenMP threads as at::parallel_for splits them; the figure is the
// best of 10 steps (loss and gradient, then loss only), so it shows what the kernel itself can do on this machine.
#include "kd/kd_loss_cpu_kernel.h"

#include <omp.h>
#include <time.h>

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
  for (int withGrad = 1; withGrad >= 0; withGrad--) {
    double best = 1e30;
    for (int rep = 0; rep < 10; rep++) {
      const double t0 = now();
#pragma omp parallel
      {
        std::vector<float> scratch(4 * cols);
        const int th = omp_get_thread_num(), nt = omp_get_num_threads();
        const long b = rows * th / nt, e = rows * (th + 1) / nt;
        kdRowsFloat(s + b * cols, t + b * cols, withGrad ? g + b * cols : nullptr, rowLoss.data() + b, e - b, cols, invT,
                    gradScale, scratch.data());
        kdStoreFence();
      }
      const double dt = now() - t0;
      if (dt < best) best = dt;
    }
    double loss = 0;
    for (double v : rowLoss) loss += v;
    printf("%ldx%ld fp32, %d threads, %s: best of 10 %.2f ms = %.2f G elements/s (loss %.6f)\n", rows, cols,
           omp_get_max_threads(), withGrad ? "loss and gradient" : "loss only", best * 1e3, n / best / 1e9, loss / rows);
  }
  return 0;
}
