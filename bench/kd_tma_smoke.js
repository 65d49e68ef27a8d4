#!/usr/bin/env node
'use strict';
/**
 * A quick check of the TMA cluster kernel before the GPU check spends minutes on it: one small case per cluster size
 * (K = 1, 4, 8 and the non-portable 16) and a masked one, each against the composite on the same GPU. Prints one line
 * per case (the kernel that ran, the loss and gradient errors) and exits non-zero on a fallback, a fault or a miss.
 *   TORCHKD_KD_KERNEL=tma CUDA_LAUNCH_BLOCKING=1 node bench/kd_tma_smoke.js
 */
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist', 'index.js'));
const native = require(path.join(__dirname, '..', 'dist', 'binding.js')).native();

const CASES = [
  // rows, classes, dtype, T, mask value (last quarter of each row and all of row 0), expected cluster size
  [64, 4104, 'bfloat16', 1.0, null, 1],
  [64, 32000, 'float32', 4.0, null, 4],
  [16, 128256, 'bfloat16', 2.0, null, 8],
  [4, 262144, 'float16', 4.0, null, 16],
  [8, 32000, 'float32', 1.0, -1e10, 4],
];
let bad = 0;
for (const [n, c, dtype, T, mask, K] of CASES) {
  const label = `${n}x${c} ${dtype} T=${T}${mask === null ? '' : ` masked ${mask}`}`;
  try {
    torch.manualSeed(7);
    let s0 = torch.randn(n, c).mul(3), t0 = torch.randn(n, c).mul(3);
    if (mask !== null) {
      const col = torch.arange(c).unsqueeze(0).expand([n, c]), row = torch.arange(n).unsqueeze(1).expand([n, c]);
      const m = col.ge(c - Math.floor(c / 4)).logicalOr(row.eq(0));
      s0 = s0.maskedFill(m, mask);
      t0 = t0.maskedFill(m, mask);
    }
    const s = s0.to({ device: 'cuda', dtype }).requiresGrad_(true), t = t0.to({ device: 'cuda', dtype });
    const loss = torch.kdLoss(s, t, T, { impl: 'fused' });
    const kernel = native.kdCudaLastKernel();
    loss.backward();
    torch.cuda.synchronize();
    const r = s.detach().float().requiresGrad_(true);
    const ref = torch.kdLoss(r, t.float(), T, { impl: 'composite' });
    ref.backward();
    const eps = dtype === 'float32' ? 1e-5 : dtype === 'bfloat16' ? 2 ** -7 : 2 ** -10;
    const lossErr = Math.abs(loss.float().item() - ref.item()) / Math.abs(ref.item());
    // float16 gradients of long rows are partly subnormal: allow the subnormal spacing (2^-24) besides eps·max.
    const gmax = r.grad.abs().max().item();
    const gradDiff = s.grad.float().sub(r.grad).abs().max().item();
    const gradErr = gradDiff / gmax;
    const gradOk = gradDiff <= eps * gmax + (dtype === 'float16' ? 2 ** -24 : 0);
    // K = 16 needs a non-portable cluster: a GPU may refuse it, which is a fallback to report, not a failure.
    const expected = `tma512 (clusters of ${K})`;
    const okKernel = kernel === expected || (K === 16 && kernel.startsWith('generic (TMA: such a cluster cannot be resident'));
    const ok = okKernel && lossErr <= eps && gradOk;
    if (!ok) bad++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}: ${kernel}; loss rel. err ${lossErr.toExponential(2)}, grad err/max ${gradErr.toExponential(2)}`);
  } catch (e) {
    bad++;
    console.log(`FAIL ${label}: ${e.message.split('\n')[0]}`);
  }
}
process.exitCode = bad ? 1 : 0;
