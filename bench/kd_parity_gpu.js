#!/usr/bin/env node
'use strict';
/**
 * GPU parity, Node side: the fused CUDA KD loss and gradient for seeded inputs, written with torch.save for
 * bench/kd_parity_gpu.py to compare against PyTorch's composite on the same GPU.
 *   node bench/kd_parity_gpu.js DIR
 */
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist', 'index.js'));
const native = require(path.join(__dirname, '..', 'dist', 'binding.js')).native();

const dir = process.argv[2];
// Row lengths chosen to reach every kernel and cluster shape on sm_90: TMA with K = 4 (32000 fp32), 8 (128256 bf16),
// 2 (8200 fp32), 16 (262144 fp16, non-portable cluster, else the generic kernel), 1 (4104 bf16); generic for short
// rows, unaligned rows (5003) and float64.
const CASES = [
  [4096, 32000, 'float32', 4.0],
  [1024, 128256, 'bfloat16', 2.0],
  [33, 8200, 'float32', 1.5],
  [16, 262144, 'float16', 4.0],
  [300, 4104, 'bfloat16', 1.0],
  [100, 5003, 'float16', 2.0],
  [512, 1000, 'float16', 1.0],
  [256, 10, 'float64', 3.0],
  [8, 10000, 'float64', 2.0], // float64 in 1024-thread blocks (a launch failure before the kernel's launch bounds)
  [37, 1001, 'float32', 0.5],
];
// Special values on a 2-block (fp32, 16384) and an 8-block (bf16, 128256) cluster row: every 7th teacher logit −inf,
// one NaN teacher logit in row 3 (that row's loss and gradient must be NaN, as in PyTorch), row 5 of the student all
// −inf (loss +inf). The Python side applies the same edits (bench/kd_parity_gpu.py).
CASES.push([8, 16384, 'float32', 2.0, 'special'], [8, 128256, 'bfloat16', 1.0, 'special']);
// Masked with a large constant: the last quarter of every row (at least one whole TMA slice, whose maximum is then the
// mask value) and all of row 0, −1e10 at T = 1 (float32, 4-block clusters) and bfloat16's lowest value at T = 2
// (8-block clusters): both turned rows into NaN before the TMA kernel subtracted maxima before scaling.
CASES.push([8, 32000, 'float32', 1.0, 'masked'], [8, 128256, 'bfloat16', 2.0, 'masked']);
const MASK = { float32: -1e10, bfloat16: -3.3895313892515355e38 };

let failed = 0;
CASES.forEach(([n, c, dtype, T, kind], i) => {
  // One failing case (a kernel fault) must not hide the others' results.
  try {
    runCase(n, c, dtype, T, kind, i);
  } catch (e) {
    failed++;
    console.error(`case ${i} (${n}x${c} ${dtype} T=${T}${kind ? ' ' + kind : ''}) failed: ${e.message}`);
  }
});

function runCase(n, c, dtype, T, kind, i) {
  torch.manualSeed(100 + i);
  let s0 = torch.randn(n, c).mul(3);
  let t0 = torch.randn(n, c).mul(3);
  if (kind === 'special') {
    const d = t0.data();
    for (let j = 0; j < n * c; j += 7) d[j] = -Infinity; // every 7th logit of the flat buffer (c % 7 != 0: all columns)
    d[3 * c + 5] = NaN;
    const e = s0.data();
    for (let j = 5 * c; j < 6 * c; j++) e[j] = -Infinity;
    t0 = torch.tensor(d, { dtype: 'float32' }).reshape([n, c]);
    s0 = torch.tensor(e, { dtype: 'float32' }).reshape([n, c]);
  }
  if (kind === 'masked') {
    const col = torch.arange(c).unsqueeze(0).expand([n, c]), row = torch.arange(n).unsqueeze(1).expand([n, c]);
    const mask = col.ge(c - Math.floor(c / 4)).logicalOr(row.eq(0));
    s0 = s0.maskedFill(mask, MASK[dtype]);
    t0 = t0.maskedFill(mask, MASK[dtype]);
  }
  const s = s0.to({ device: 'cuda', dtype }).requiresGrad_(true);
  const t = t0.to({ device: 'cuda', dtype });
  const loss = torch.kdLoss(s, t, T, { impl: 'fused' });
  const kernel = native.kdCudaLastKernel(); // which kernel really ran (a TMA request can fall back)
  loss.backward();
  torch.save({ n, c, dtype, T, seed: 100 + i, special: kind === 'special', mask: kind === 'masked' ? MASK[dtype] : null, kernel,
    loss: loss.float().cpu(), grad: s.grad.float().cpu() }, path.join(dir, `case${i}.pt`));
}
console.log(`wrote ${CASES.length - failed} of ${CASES.length} cases to ${dir}`);
if (failed) process.exitCode = 1;
