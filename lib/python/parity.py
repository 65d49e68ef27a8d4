"""The Python side of `torchkd parity`: the same distillation recipe as lib/cli/parity.ts, in PyTorch, with
Distiller's KnowledgeDistillationPolicy formula, from the initial weights torchkd saved and in the same data order
(torch.manual_seed + DataLoader(shuffle=True), which torchkd's DataLoader reproduces).

    python lib/python/parity.py CONFIG.json   -> writes the per-step losses and final weights next to CONFIG
"""
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zoo import ZOO  # noqa: E402


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


cfg = json.load(open(sys.argv[1]))
torch.set_num_threads(cfg['threads'])
images = torch.from_numpy(read_idx(os.path.join(cfg['data'], 'train-images-idx3-ubyte.gz')).copy())
labels = torch.from_numpy(read_idx(os.path.join(cfg['data'], 'train-labels-idx1-ubyte.gz')).copy()).long()
x_all = ((images.float() / 255.0).unsqueeze(1) - cfg['mean']) / cfg['std']
init = torch.load(cfg['init'])
teacher, student = ZOO[cfg['teacher']](), ZOO[cfg['student']]()
teacher.load_state_dict(init['teacher'])
student.load_state_dict(init['student'])
teacher.eval()
for p in teacher.parameters():
    p.requires_grad_(False)
opt = torch.optim.SGD(student.parameters(), lr=cfg['lr'], momentum=cfg['momentum'], weight_decay=cfg['weight_decay'])
T, wd, ws = cfg['T'], cfg['distill_wt'], cfg['student_wt']
torch.manual_seed(cfg['seed'])
loader = DataLoader(TensorDataset(x_all, labels), batch_size=cfg['batch_size'], shuffle=True)
losses = []
step = 0
while step < cfg['steps']:
    for x, y in loader:
        if step >= cfg['steps']:
            break
        with torch.no_grad():
            t_logits = teacher(x)
        out = student(x)
        s_logits = out.clone()
        loss = F.cross_entropy(out, y)
        kl = F.kl_div(F.log_softmax(s_logits / T, dim=1), F.softmax(t_logits / T, dim=1).detach(), reduction='batchmean')
        overall = ws * loss + wd * (kl * T ** 2)
        opt.zero_grad()
        overall.backward()
        opt.step()
        losses.append({'overall': overall.item(), 'objective': loss.item(), 'distill': kl.item()})
        step += 1
out_dir = os.path.dirname(os.path.abspath(sys.argv[1]))
torch.save(student.state_dict(), os.path.join(out_dir, 'python_final.pt'))
json.dump({'losses': losses, 'torch': torch.__version__}, open(os.path.join(out_dir, 'python_losses.json'), 'w'))
print(f'python: {len(losses)} steps, torch {torch.__version__}')
