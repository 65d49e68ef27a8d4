"""Python side of `npm run bench`: answers timing requests from bench/run.js over stdin/stdout (JSON lines).

Each request names a case and an iteration count; the reply is the mean time per iteration in nanoseconds.
Node and Python trials alternate, so machine noise hits both sides alike.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


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


def kd_eager(s, t, temperature):
    """Distiller's formula, as its policy computes it (the T² scaling is outside the KL, as there)."""
    log_q = F.log_softmax(s / temperature, dim=1)
    p = F.softmax(t / temperature, dim=1)
    return F.kl_div(log_q, p.detach(), reduction='batchmean')


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads())
    cases = make_cases()
    for line in sys.stdin:
        req = json.loads(line)
        fn = cases[req['case']]
        for _ in range(max(1, req['iters'] // 10)):
            fn()
        n = req['iters']
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        dt = (time.perf_counter_ns() - t0) / n
        sys.stdout.write(json.dumps({'ns': dt}) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
