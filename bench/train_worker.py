"""Python side of `npm run bench train`: full distillation training steps in PyTorch, answering timing requests from
bench/run.js over stdin/stdout (JSON lines), so that Node and Python rounds alternate in one run.

A step is Distiller's: the teacher's forward under no_grad, the student's forward, cross entropy plus the KD loss
(log_softmax / softmax / kl_div 'batchmean', scaled by T^2, weights 0.5/0.5), backward and an SGD step with momentum
and weight decay, then the loss read back (as a training loop logs it).

    request {"case": NAME, "steps": N}       reply {"ms": [per-step milliseconds]}
    request {"case": "demo KD epoch"}         reply {"ms": [the epoch's milliseconds], "steps": STEPS}
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib', 'python'))
from zoo import ZOO  # noqa: E402

T = 4.0
MEAN, STD = 0.2860, 0.3530


def make_step(teacher, student, x, y):
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def step(x=x, y=y):
        with torch.no_grad():
            t_logits = teacher(x)
        out = student(x)
        s_logits = out.clone()
        loss = F.cross_entropy(out, y)
        kl = F.kl_div(F.log_softmax(s_logits / T, dim=1), F.softmax(t_logits / T, dim=1).detach(), reduction='batchmean')
        overall = 0.5 * loss + 0.5 * (kl * T ** 2)
        opt.zero_grad()
        overall.backward()
        opt.step()
        return overall.item()

    return step


def cases():
    torch.manual_seed(0)
    out = {}
    x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
    out['simplenet_mnist -> mlp_small_mnist, b128'] = make_step(ZOO['simplenet_mnist'](), ZOO['mlp_small_mnist'](), x, y)
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    out['preact_resnet20_cifar -> resnet20_cifar, b64'] = make_step(ZOO['preact_resnet20_cifar'](), ZOO['resnet20_cifar'](), x, y)
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    teacher = ZOO['preact_resnet20_cifar']().to(memory_format=torch.channels_last)
    out['channels-last preact_resnet20 -> resnet20, b64'] = make_step(teacher, ZOO['resnet20_cifar'](), x, y)
    x, y = torch.randn(256, 512), torch.randint(0, 32000, (256,))
    out['Linear 512->32000 (both), b256'] = make_step(torch.nn.Linear(512, 32000), torch.nn.Linear(512, 32000), x, y)
    return out


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def demo_epoch(root, max_steps):
    """One epoch of the demo's student+KD run: mlp_small_mnist from simplenet_mnist, batch 128, lr 0.02, 54000 images."""
    images = torch.from_numpy(read_idx(os.path.join(root, 'train-images-idx3-ubyte.gz')).copy())[:54000]
    labels = torch.from_numpy(read_idx(os.path.join(root, 'train-labels-idx1-ubyte.gz')).copy()).long()[:54000]
    x_all = ((images.float() / 255.0).unsqueeze(1) - MEAN) / STD
    torch.manual_seed(1)
    teacher, student = ZOO['simplenet_mnist'](), ZOO['mlp_small_mnist']()
    step = make_step(teacher, student, None, None)
    loader = DataLoader(TensorDataset(x_all, labels), batch_size=128, shuffle=True)
    t0 = time.perf_counter()
    n = 0
    for x, y in loader:
        step(x, y)
        n += 1
        if max_steps and n >= max_steps:
            break
    return (time.perf_counter() - t0) * 1000, n


def main():
    torch.set_num_threads(int(sys.argv[1]))
    steps = cases()
    for line in sys.stdin:
        req = json.loads(line)
        if req['case'] == 'demo KD epoch':
            ms, n = demo_epoch(req['data'], req.get('maxSteps'))
            reply = {'ms': [ms], 'steps': n}
        else:
            fn = steps[req['case']]
            for _ in range(req.get('warmup', 2)):
                fn()
            times = []
            for _ in range(req['steps']):
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1000)
            reply = {'ms': times}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
