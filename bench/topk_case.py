"""One top-k KD loss benchmark case in Python, PyTorch eager, in a fresh process:
    python bench/topk_case.py N C K reps threads
the formula of torchkd's topkKdLoss: F.kl_div(F.log_softmax(s / T, 1).gather(1, idx), F.softmax(v / T, 1),
reduction='batchmean'). Prints {ms (median forward+backward), peakExtraMB (above the inputs), loss}."""
import json
import re
import sys
import time

import torch
import torch.nn.functional as F

n, c, k, reps, threads = (int(a) for a in sys.argv[1:6])
torch.set_num_threads(threads)
T = 4.0


def rss(field):
    m = re.search(field + r':\s+(\d+)', open('/proc/self/status').read())
    return int(m.group(1)) * 1024 if m else 0


torch.manual_seed(0)
s0 = torch.randn(n, c) * 3
top = (torch.randn(n, c) * 3).topk(k, 1)


def step():
    s = s0.detach().requires_grad_(True)
    log_q = F.log_softmax(s / T, dim=1).gather(1, top.indices)
    loss = F.kl_div(log_q, F.softmax(top.values / T, dim=1), reduction='batchmean')
    loss.backward()
    return loss.item()


open('/proc/self/clear_refs', 'w').write('5')
baseline = rss('VmRSS')
step()
times = []
loss = 0.0
for _ in range(reps):
    t0 = time.perf_counter()
    loss = step()
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(json.dumps({'ms': times[len(times) // 2], 'peakExtraMB': max(0, rss('VmHWM') - baseline) / 2 ** 20, 'loss': loss}))
