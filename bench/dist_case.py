"""One Python rank of the distributed benchmark: bench/dist_case.js in torch.distributed (see there)."""
import sys
import time
import datetime

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

what, size, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
dist.init_process_group('gloo', timeout=datetime.timedelta(seconds=120))
times = []
if what == 'allreduce':
    t = torch.ones(size)
    for _ in range(3):
        dist.all_reduce(t)
    for _ in range(reps):
        dist.barrier()
        t0 = time.perf_counter_ns()
        dist.all_reduce(t)
        times.append((time.perf_counter_ns() - t0) / 1e6)
else:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, size), nn.ReLU(), nn.Linear(size, size), nn.ReLU(), nn.Linear(size, 10))
    ddp = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(64, 784)
    y = torch.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        F.cross_entropy(ddp(x), y).backward()
        opt.step()

    for _ in range(5):
        step()
    for _ in range(reps):
        dist.barrier()
        t0 = time.perf_counter_ns()
        step()
        times.append((time.perf_counter_ns() - t0) / 1e6)
times.sort()
if dist.get_rank() == 0:
    print('{"ms": %r, "minMs": %r}' % (times[len(times) // 2], times[0]))
dist.destroy_process_group()
