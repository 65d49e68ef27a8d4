#!/usr/bin/env bash
# Builds and runs bench/kd_kernel.cc: the fused CPU KD kernel alone (no Node, no libtorch), best and median of 15 steps.
#   bash bench/kd_kernel.sh [N C [fp32|bf16]]   (default 2048 32000 fp32; OMP_NUM_THREADS picks the thread count)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)/kd_kernel
g++ -O3 -std=c++17 -fopenmp -Wno-psabi -Inative bench/kd_kernel.cc native/kd/kd_loss_cpu_kernel.cc -o "$out"
"$out" "$@"
