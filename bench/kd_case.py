"""One KD-loss benchmark case in Python, PyTorch eager (Distiller's formula), in a fresh process:
    python bench/kd_case.py N C dtype reps threads [device]
Prints {ms (median forward+backward), peakExtraMB (above the inputs), loss}."""
import json
import re
import sys
import time

import torch
import torch.nn.functional as F

n, c, dtype, reps, threads = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
device = sys.argv[6] if len(sys.argv) > 6 else 'cpu'
torch.set_num_threads(threads)
cuda = device.startswith('cuda')
T = 4.0
dt = getattr(torch, dtype)


def rss(field):
    m = re.search(field + r':\s+(\d+)', open('/proc/self/status').read())
    return int(m.group(1)) * 1024 if m else 0


torch.manual_seed(0)
s0 = (torch.randn(n, c, device=device) * 3).to(dtype=dt)
t = (torch.randn(n, c, device=device) * 3).to(dtype=dt)


def step():
    s = s0.detach().requires_grad_(True)
    log_q = F.log_softmax(s / T, dim=1)
    p = F.softmax(t / T, dim=1)
    loss = F.kl_div(log_q, p.detach(), reduction='batchmean')
    loss.backward()
    if cuda:
        torch.cuda.synchronize()
    return loss.item()


# Peak extra memory is measured from before the first step, as on the Node side.
if cuda:
    torch.cuda.reset_peak_memory_stats()
    baseline = torch.cuda.memory_allocated()
else:
    open('/proc/self/clear_refs', 'w').write('5')
    baseline = rss('VmRSS')
step()
times = []
loss = 0.0
for _ in range(reps):
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    loss = step()
    times.append((time.perf_counter() - t0) * 1000)
peak = torch.cuda.max_memory_allocated() if cuda else rss('VmHWM')
times.sort()
print(json.dumps({'ms': times[len(times) // 2], 'peakExtraMB': max(0, peak - baseline) / 2 ** 20, 'loss': loss}))
