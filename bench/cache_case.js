#!/usr/bin/env node
'use strict';
/**
 * One teacher-cache benchmark case in a fresh process (so peak memory is this case's own):
 *   node bench/cache_case.js build ROOT DIR DTYPE           build a cache of the demo teacher over the training set
 *   node bench/cache_case.js epoch <live|cache> ROOT DIR [maxSteps]
 *        one epoch of the demo's student+KD step (bench/run.js's kdStep: simplenet_mnist -> mlp_small_mnist, T=4,
 *        batch 128, shuffled), the teacher run live or its logits read from the cache in DIR
 *   node bench/cache_case.js topk <fused|composite> N C K reps
 *        the top-k KD loss forward+backward on N×C student logits and k teacher entries
 * Prints one JSON line: {ms, steps?, peakRssMB, peakExtraMB?, loss?}.
 */
const fs = require('fs');
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist', 'index.js'));

const [what, ...rest] = process.argv.slice(2);
const T = 4.0;

function rssKB(field) {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`));
  return m ? Number(m[1]) : 0;
}

// The demo's data: the first 54000 training images (the rest is its validation split), normalised as bench/run.js does.
function trainSet(root) {
  const ds = new torch.data.FashionMNIST({ root, train: true, mean: 0.286, std: 0.353 });
  return new torch.data.TensorDataset(ds.images.narrow(0, 0, 54000), ds.labels.narrow(0, 0, 54000));
}

function teacher() {
  torch.manualSeed(1);
  return torch.models.create('simplenet_mnist');
}

function build(root, dir, dtype) {
  const data = trainSet(root);
  const t = teacher();
  const t0 = process.hrtime.bigint();
  torch.distiller.TeacherCache.build(t, data, dir, { dtype, batchSize: 256 });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, peakRssMB: rssKB('VmHWM') / 1024 };
}

function epoch(mode, root, dir, maxSteps) {
  const data = trainSet(root);
  const t = teacher();
  const student = torch.models.create('mlp_small_mnist');
  const cache = mode === 'cache' ? torch.distiller.TeacherCache.open(dir, { dataset: data }) : null;
  const policy = new torch.KnowledgeDistillationPolicy(student, cache ?? t, T, torch.DistillationLossWeights(0.5, 0.5, 0));
  policy.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
  const opt = new torch.optim.SGD(student.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const loader = new torch.data.DataLoader(cache ? new torch.data.IndexedDataset(data) : data, { batchSize: 128, shuffle: true });
  globalThis.gc?.();
  const t0 = process.hrtime.bigint();
  let steps = 0;
  let loss = 0;
  for (const batch of loader) {
    loss = torch.tidy(() => {
      const [x, y, indices] = batch;
      const out = cache ? policy.forward(x, { indices }) : policy.forward(x);
      const pl = policy.beforeBackwardPass(student, 0, steps, loader.length, torch.F.crossEntropy(out, y), {});
      opt.zeroGrad();
      pl.overallLoss.backward();
      opt.step();
      return pl.overallLoss.item();
    });
    for (const b of batch) b.dispose();
    steps++;
    if (maxSteps && steps >= maxSteps) break;
  }
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, steps, loss, peakRssMB: rssKB('VmHWM') / 1024 };
}

function topk(impl, n, c, k, reps) {
  torch.manualSeed(0);
  const s0 = torch.randn([n, c]).mul(3);
  const top = torch.randn([n, c]).mul(3).topk(k, 1);
  const step = () => {
    const s = s0.detach().requiresGrad_(true);
    const l = torch.distiller.topkKdLoss(s, top.values, top.indices, T, { impl });
    l.backward();
    const v = l.item();
    s.grad = null;
    s.dispose();
    l.dispose();
    return v;
  };
  globalThis.gc?.();
  fs.writeFileSync('/proc/self/clear_refs', '5');
  const baseline = rssKB('VmRSS');
  step();
  const times = [];
  let loss = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    loss = step();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], minMs: times[0], peakExtraMB: Math.max(0, rssKB('VmHWM') - baseline) / 1024, loss };
}

let out;
if (what === 'build') out = build(rest[0], rest[1], rest[2]);
else if (what === 'epoch') out = epoch(rest[0], rest[1], rest[2], Number(rest[3] || 0));
else if (what === 'topk') out = topk(rest[0], Number(rest[1]), Number(rest[2]), Number(rest[3]), Number(rest[4]));
else throw new Error(`cache_case.js: unknown case '${what}'`);
process.stdout.write(JSON.stringify(out) + '\n');
