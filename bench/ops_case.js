'use strict';
/**
 * Node side of `npm run bench ops`: one process's trials of the per-op cases (bench/ops_case.py is the Python side).
 *
 * Usage: node bench/ops_case.js THREADS TRIALS ITERS ITERS_BACKWARD. Prints one JSON line: for each case, the mean
 * time per call in nanoseconds of each trial, after one untimed trial of the case (the steady state: the JIT has
 * compiled the loop and the heap has grown to its working size). The loops are plain, as the Python ones: no tidy,
 * no dispose; the garbage collector frees the results.
 */
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist', 'index.js'));

function makeCases() {
  torch.manualSeed(0);
  const a = torch.rand(8, 8);
  const b = torch.rand(8, 8);
  const x = torch.rand(8, 8, { requiresGrad: true });
  const w = torch.rand(8, 8);
  const c = torch.rand(8, 8);
  const d = torch.rand(8, 8);
  return {
    'add 8x8': () => a.add(b),
    'matmul 8x8': () => torch.matmul(a, b),
    'relu 8x8': () => torch.relu(a),
    'sum 8x8': () => a.sum(),
    'chain+backward 8x8': () => x.matmul(w).relu().mul(c).add(d).sum().backward(),
  };
}

function timeCase(fn, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

const [threads, trials, iters, itersBackward] = process.argv.slice(2, 6).map(Number);
torch.setNumThreads(threads);
const out = {};
for (const [name, fn] of Object.entries(makeCases())) {
  const n = name.includes('backward') ? itersBackward : iters;
  timeCase(fn, n); // warm-up
  out[name] = Array.from({ length: trials }, () => timeCase(fn, n));
}
process.stdout.write(JSON.stringify(out) + '\n');
