#!/usr/bin/env node
'use strict';
/**
 * GPU parity, Node side: the fused CUDA KD loss and gradient for seeded inputs, written with torch.save for
 * bench/kd_parity_gpu.py to compare against PyTorch's composite on the same GPU.
 *   node bench/kd_parity_gpu.js DIR
 */
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist', 'index.js'));

const dir = process.argv[2];
const CASES = [
  [4096, 32000, 'float32', 4.0],
  [1024, 128256, 'bfloat16', 2.0],
  [512, 1000, 'float16', 1.0],
  [256, 10, 'float64', 3.0],
  [37, 1001, 'float32', 0.5],
];
CASES.forEach(([n, c, dtype, T], i) => {
  torch.manualSeed(100 + i);
  const s = torch.randn(n, c).mul(3).to({ device: 'cuda', dtype }).requiresGrad_(true);
  const t = torch.randn(n, c).mul(3).to({ device: 'cuda', dtype });
  const loss = torch.kdLoss(s, t, T, { impl: 'fused' });
  loss.backward();
  torch.save({ n, c, dtype, T, seed: 100 + i, loss: loss.float().cpu(), grad: s.grad.float().cpu() }, path.join(dir, `case${i}.pt`));
});
console.log(`wrote ${CASES.length} cases to ${dir}`);
