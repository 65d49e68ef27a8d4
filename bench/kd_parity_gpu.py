"""GPU parity, Python side: PyTorch's composite (Distiller's formula) on the same seeded inputs and GPU, compared
with torchkd's fused CUDA results written by bench/kd_parity_gpu.js.
    python bench/kd_parity_gpu.py DIR OUT.json"""
import glob
import json
import os
import sys

import torch
import torch.nn.functional as F

rows = []
for f in sorted(glob.glob(os.path.join(sys.argv[1], 'case*.pt'))):
    node = torch.load(f)
    n, c, dtype, T, seed = node['n'], node['c'], node['dtype'], node['T'], node['seed']
    torch.manual_seed(seed)
    dt = getattr(torch, dtype)
    s0 = torch.randn(n, c) * 3
    t0 = torch.randn(n, c) * 3
    if node.get('special'):
        t0.view(-1)[::7] = float('-inf')
        t0[3, 5] = float('nan')
        s0[5, :] = float('-inf')
    if node.get('mask') is not None:
        v = node['mask']
        s0[:, c - c // 4:] = v
        t0[:, c - c // 4:] = v
        s0[0, :] = v
        t0[0, :] = v
    s = s0.to(device='cuda', dtype=dt).requires_grad_(True)
    t = t0.to(device='cuda', dtype=dt)
    # Reference in float32 (float64 for float64) on the same rounded inputs, as the fused kernel accumulates.
    ref_dt = torch.float64 if dt == torch.float64 else torch.float32
    sr = s.detach().to(ref_dt).requires_grad_(True)
    loss = F.kl_div(F.log_softmax(sr / T, dim=1), F.softmax(t.to(ref_dt) / T, dim=1), reduction='batchmean')
    loss.backward()
    g_ref = sr.grad.float().cpu()
    g = node['grad']
    if node.get('special'):
        # NaN where PyTorch has NaN, inf where it has inf, the rest compared as usual.
        same_nan = bool(torch.equal(torch.isnan(g), torch.isnan(g_ref)))
        finite = torch.isfinite(g_ref) & torch.isfinite(g)
        rows.append({
            'case': f'{n}x{c} {dtype} T={T} special (-inf teacher, NaN teacher, -inf student row)',
            'kernel': node.get('kernel'),
            'loss_torchkd': float(node['loss']), 'loss_pytorch': float(loss.detach()),
            'nan_pattern_equal': same_nan,
            'grad_max_abs_diff_finite': float((g[finite] - g_ref[finite]).abs().max()),
            'grad_max_abs': float(g_ref[finite].abs().max()),
        })
        print(json.dumps(rows[-1]))
        continue
    rows.append({
        'case': f'{n}x{c} {dtype} T={T}' + (f' masked with {node["mask"]:g}' if node.get('mask') is not None else ''),
        'kernel': node.get('kernel'),
        'loss_torchkd': float(node['loss']), 'loss_pytorch': float(loss.detach()),
        'loss_rel_diff': abs(float(node['loss']) - float(loss.detach())) / max(abs(float(loss.detach())), 1e-30),
        'grad_max_abs_diff': float((g - g_ref).abs().max()),
        'grad_max_abs': float(g_ref.abs().max()),
    })
    print(json.dumps(rows[-1]))
json.dump({'device': torch.cuda.get_device_name(0), 'torch': torch.__version__, 'cases': rows}, open(sys.argv[2], 'w'), indent=2)
