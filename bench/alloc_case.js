'use strict';
/**
 * One case of `node bench/run.js alloc` in a fresh process: `node alloc_case.js <resnet|linear> <steps>` runs the KD
 * training step of bench/run.js train (teacher forward, student forward, CE + KD loss, backward, SGD, in torch.tidy)
 * and prints one JSON line: {ms (median step), minMs, peakRssMB (VmHWM)}. bench/run.js runs it with torchkd's CPU
 * allocator keeping its large freed blocks (as shipped) and without (TORCHKD_CPU_CACHE_MB=0).
 */
const fs = require('fs');
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist', 'index.js'));

const [what, stepsArg] = process.argv.slice(2);
const steps = Number(stepsArg);

const kdStep = (teacher, student, x, y) => require('./kd_step').kdStep(torch, teacher, student, x, y);

torch.manualSeed(0);
const { create } = torch.models;
const step =
  what === 'resnet'
    ? kdStep(create('preact_resnet20_cifar'), create('resnet20_cifar'), torch.randn(64, 3, 32, 32), torch.randint(0, 10, [64]))
    : kdStep(new torch.nn.Linear(512, 32000), new torch.nn.Linear(512, 32000), torch.randn(256, 512), torch.randint(0, 32000, [256]));
step();
step();
const times = [];
for (let i = 0; i < steps; i++) {
  const t0 = process.hrtime.bigint();
  step();
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
times.sort((a, b) => a - b);
const hwm = Number(fs.readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)[1]);
process.stdout.write(JSON.stringify({ ms: times[Math.floor(times.length / 2)], minMs: times[0], peakRssMB: hwm / 1024 }) + '\n');
