"""Python side of `npm run bench ops`: one process's trials of the per-op cases (bench/ops_case.js is the Node side).

Usage: ops_case.py THREADS TRIALS ITERS ITERS_BACKWARD. Prints one JSON line: for each case, the mean time per call in
nanoseconds of each trial, after one untimed trial of the case (as the Node side).
"""
import json
import sys
import time

import torch


def make_cases():
    torch.manual_seed(0)
    a, b = torch.rand(8, 8), torch.rand(8, 8)
    x = torch.rand(8, 8, requires_grad=True)
    w, c, d = torch.rand(8, 8), torch.rand(8, 8), torch.rand(8, 8)

    def chain():
        x.matmul(w).relu().mul(c).add(d).sum().backward()

    return {
        'add 8x8': lambda: a + b,
        'matmul 8x8': lambda: torch.matmul(a, b),
        'relu 8x8': lambda: torch.relu(a),
        'sum 8x8': lambda: a.sum(),
        'chain+backward 8x8': chain,
    }


def time_case(fn, n):
    t0 = time.perf_counter_ns()
    for _ in range(n):
        fn()
    return (time.perf_counter_ns() - t0) / n


def main():
    threads, trials, iters, iters_backward = (int(v) for v in sys.argv[1:5])
    torch.set_num_threads(threads)
    out = {}
    for name, fn in make_cases().items():
        n = iters_backward if 'backward' in name else iters
        time_case(fn, n)  # warm-up
        out[name] = [time_case(fn, n) for _ in range(trials)]
    sys.stdout.write(json.dumps(out) + '\n')


if __name__ == '__main__':
    main()
