#!/usr/bin/env node
'use strict';
/**
 * One KD-loss benchmark case in a fresh process (so peak memory is this case's own):
 *   node bench/kd_case.js <fused|composite> N C dtype reps [device]
 * Prints {ms (median forward+backward), minMs (fastest step), peakExtraMB (above the inputs), loss}.
 * CPU peak: VmHWM after resetting it (clear_refs); CUDA peak: libtorch's allocator statistics.
 */
const fs = require('fs');
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist', 'index.js'));

const [impl, n, c, dtype, reps, device = 'cpu'] = process.argv.slice(2);
const N = Number(n);
const C = Number(c);
const cuda = device.startsWith('cuda');
const T = 4.0;

function rssKB(field) {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`));
  return m ? Number(m[1]) : 0;
}

torch.manualSeed(0);
// On a GPU the inputs are drawn there (drawing a billion CPU normals would take longer than the benchmark).
const s0 = torch.randn([N, C], { device }).mul(3).to({ dtype });
const t = torch.randn([N, C], { device }).mul(3).to({ dtype });
const sync = () => cuda && torch.cuda.synchronize();
const step = () => {
  const s = s0.detach().requiresGrad_(true);
  const loss = torch.kdLoss(s, t, T, { impl });
  loss.backward();
  sync();
  const v = loss.item();
  s.grad = null;
  s.dispose();
  loss.dispose();
  return v;
};
// Peak extra memory is measured from before the first step, so buffers kept between steps count too.
globalThis.gc?.();
let baseline;
if (cuda) {
  torch.cuda.resetPeakMemoryStats();
  baseline = torch.cuda.memoryStats().allocated;
} else {
  fs.writeFileSync('/proc/self/clear_refs', '5');
  baseline = rssKB('VmRSS') * 1024;
}
step(); // warm-up (and lazy initialisation)
const times = [];
let loss = 0;
for (let r = 0; r < Number(reps); r++) {
  sync();
  const t0 = process.hrtime.bigint();
  loss = step();
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const peak = cuda ? torch.cuda.memoryStats().peakAllocated : rssKB('VmHWM') * 1024;
times.sort((a, b) => a - b);
// On CUDA, which kernel really ran: a TMA request (TORCHKD_KD_KERNEL) falls back to the generic kernel where TMA can't run.
const kernel = cuda && impl === 'fused' ? require(path.join(__dirname, '..', 'dist', 'binding.js')).native().kdCudaLastKernel() : undefined;
process.stdout.write(JSON.stringify({ ms: times[Math.floor(times.length / 2)], minMs: times[0], peakExtraMB: Math.max(0, peak - baseline) / 2 ** 20, loss, kernel }) + '\n');
