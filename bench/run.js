#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: torchkd next to Python PyTorch (the project venv's, same libtorch), in one run.
 *
 *   ops  per-op cost of small ops: rounds of a fresh Node and a fresh Python process, alternating; the median over the
 *        processes per side with the Node/Python ratio (< 1 means Node is faster), and the best trial.
 *   kd   KD loss forward+backward: torchkd fused (and composite) vs PyTorch eager in Python (as is, and with
 *        THP_MEM_ALLOC_ENABLE=1, PyTorch's switch for huge pages on large allocations), with peak extra memory,
 *        each size in a fresh process.
 *   dist allreduce throughput and a DDP training step on 2 ranks over Gloo on 127.0.0.1: Node ranks (torchkd) and
 *        Python ranks (torch.distributed) in alternating jobs; the median over the jobs of each job's median.
 *   train full distillation training steps (teacher forward, student forward, CE + KD loss, backward, SGD step) in
 *        torchkd (KnowledgeDistillationPolicy, fused loss, each step in torch.tidy) and in PyTorch (Distiller's
 *        formula, bench/train_worker.py), rounds alternating; median step, and the V8 collections per Node step.
 *        Also one epoch of the demo's student+KD run on Fashion-MNIST, data loading included.
 *   cache the teacher-logit cache: one epoch of the demo's student+KD run with the teacher live and with its logits
 *        read from a dense cache (time and peak RSS, each epoch in a fresh process, runs alternating; the one-off
 *        cache build timed too), and the top-k KD loss forward+backward: torchkd fused and composite vs PyTorch eager
 *        in Python.
 *   alloc training steps (the ResNet-20 and Linear 512->32000 KD steps of `train`, and the 2-rank DDP step of `dist`)
 *        with torchkd's CPU allocator keeping its freed large blocks (as shipped) and without
 *        (TORCHKD_CPU_CACHE_MB=0), each in fresh processes, alternating: median step and peak resident memory.
 *
 * Usage: node bench/run.js [ops|kd|train|dist|cache|alloc|all] [--quick]   (results also written to bench/results.json)
 */
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const root = path.resolve(__dirname, '..');
const torch = require(path.join(root, 'dist', 'index.js'));
const { discover } = require(path.join(root, 'lib', 'libtorch.js'));

const args = process.argv.slice(2);
const suite = args.find((a) => !a.startsWith('--')) || 'all';
const quick = args.includes('--quick');
const threads = torch.getNumThreads();

function python() {
  const info = discover();
  return process.env.TORCHKD_PYTHON || info.python || 'python3';
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// Each round starts a fresh Node process and a fresh Python process (which goes first alternates) and runs every case
// in both. Processes differ: on this kind of VM one process runs a small op at ~1.1 µs and the next at ~1.8 µs, on
// either side, for its whole life, so one process per side (however many trials it runs) gives a ratio that is luck.
// Reported per case: the median over the rounds of each process's median trial, and the best process's best trial.
async function opsSuite() {
  const rounds = quick ? 3 : 10;
  const trials = quick ? 2 : 3;
  const iters = quick ? 20000 : 100000;
  const itersBackward = quick ? 2000 : 10000;
  const argv = [threads, trials, iters, itersBackward].map(String);
  const runNode = () => runChild(process.execPath, [path.join(__dirname, 'ops_case.js'), ...argv]);
  const runPython = () => runChild(python(), [path.join(__dirname, 'ops_case.py'), ...argv]);
  const perRound = { node: [], python: [] };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      perRound.node.push(runNode());
      perRound.python.push(runPython());
    } else {
      perRound.python.push(runPython());
      perRound.node.push(runNode());
    }
  }
  const rows = [];
  for (const name of Object.keys(perRound.node[0])) {
    const medians = (side) => perRound[side].map((round) => median(round[name]));
    const best = (side) => Math.min(...perRound[side].map((round) => Math.min(...round[name])));
    const row = {
      case: name,
      nodeUs: median(medians('node')) / 1000,
      pythonUs: median(medians('python')) / 1000,
      nodeBestUs: best('node') / 1000,
      pythonBestUs: best('python') / 1000,
      nodeProcessesUs: medians('node').map((v) => v / 1000),
      pythonProcessesUs: medians('python').map((v) => v / 1000),
    };
    row.ratio = row.nodeUs / row.pythonUs;
    row.bestRatio = row.nodeBestUs / row.pythonBestUs;
    rows.push(row);
    const us = (v) => v.toFixed(2).padStart(7);
    console.log(
      `${name.padEnd(22)} median: node ${us(row.nodeUs)} µs  python ${us(row.pythonUs)} µs  ratio ${row.ratio.toFixed(2)}` +
        `   best: node ${us(row.nodeBestUs)} µs  python ${us(row.pythonBestUs)} µs  ratio ${row.bestRatio.toFixed(2)}`,
    );
  }
  return rows;
}

// ---- KD loss -----------------------------------------------------------------------------------------------------

const KD_SIZES = [
  [256, 10, 'float32'],
  [4096, 1000, 'float32'],
  [2048, 32000, 'float32'],
  [512, 128256, 'float32'],
  [2048, 32000, 'bfloat16'],
  [512, 128256, 'bfloat16'],
];

function runChild(cmd, argv, env = process.env) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 24, env });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function kdSuite() {
  const rows = [];
  const sizes = quick ? KD_SIZES.slice(0, 3) : KD_SIZES;
  for (const [n, c, dtype] of sizes) {
    const reps = n * c > 5e7 ? 3 : n * c > 1e6 ? 7 : 50;
    // The fused steps are cheap, so they get more of them: on a shared machine a median of 3 is mostly noise.
    const fusedReps = Math.max(reps, 21);
    const fused = runChild(process.execPath, ['--expose-gc', path.join(__dirname, 'kd_case.js'), 'fused', n, c, dtype, fusedReps]);
    const composite = runChild(process.execPath, ['--expose-gc', path.join(__dirname, 'kd_case.js'), 'composite', n, c, dtype, reps]);
    const eager = runChild(python(), [path.join(__dirname, 'kd_case.py'), n, c, dtype, reps, threads]);
    // Eager again with PyTorch's own switch for transparent huge pages on allocations >= 2 MB: most of default
    // eager's time at the large sizes is page faults (each N×C temporary is a fresh mapping), which this removes.
    const eagerThp = runChild(python(), [path.join(__dirname, 'kd_case.py'), n, c, dtype, reps, threads], {
      ...process.env,
      THP_MEM_ALLOC_ENABLE: '1',
    });
    const elements = n * c;
    const row = {
      size: `${n}x${c}`,
      dtype,
      fusedMs: fused.ms,
      fusedMinMs: fused.minMs,
      compositeNodeMs: composite.ms,
      eagerPythonMs: eager.ms,
      eagerPythonThpMs: eagerThp.ms,
      speedup: eager.ms / fused.ms,
      speedupVsThp: eagerThp.ms / fused.ms,
      fusedGElemPerS: elements / (fused.ms / 1000) / 1e9,
      fusedPeakExtraMB: fused.peakExtraMB,
      eagerPeakExtraMB: eager.peakExtraMB,
    };
    rows.push(row);
    console.log(
      `${row.size.padEnd(11)} ${dtype.padEnd(8)} fused ${row.fusedMs.toFixed(2).padStart(8)} ms  (${row.fusedGElemPerS.toFixed(2)} Gelem/s; fastest ${row.fusedMinMs.toFixed(2)} ms; +${row.fusedPeakExtraMB.toFixed(0)} MB)` +
        `   python eager ${row.eagerPythonMs.toFixed(2).padStart(8)} ms (+${row.eagerPeakExtraMB.toFixed(0)} MB)   node composite ${row.compositeNodeMs.toFixed(2)} ms   speedup ${row.speedup.toFixed(1)}x` +
        `   python eager with THP_MEM_ALLOC_ENABLE=1 ${row.eagerPythonThpMs.toFixed(2)} ms   speedup ${row.speedupVsThp.toFixed(1)}x`,
    );
  }
  return rows;
}

// ---- training steps -----------------------------------------------------------------------------------------------

const { PerformanceObserver, constants: perfConstants } = require('perf_hooks');
const { kdStep: kdStepOf } = require('./kd_step');

/** bench/kd_step.js's KD step over this process's torchkd. */
const kdStep = (teacher, student, x, y) => kdStepOf(torch, teacher, student, x, y);

function trainCases() {
  torch.manualSeed(0);
  const { create } = torch.models;
  const cases = {};
  cases['simplenet_mnist -> mlp_small_mnist, b128'] = kdStep(create('simplenet_mnist'), create('mlp_small_mnist'), torch.randn(128, 1, 28, 28), torch.randint(0, 10, [128]));
  cases['preact_resnet20_cifar -> resnet20_cifar, b64'] = kdStep(create('preact_resnet20_cifar'), create('resnet20_cifar'), torch.randn(64, 3, 32, 32), torch.randint(0, 10, [64]));
  // The same pair with the teacher's weights in channels-last (NHWC) layout, opt-in on both sides: PyTorch's
  // `teacher.to(memory_format=torch.channels_last)`; its logits differ from the NCHW teacher's by float rounding.
  const clTeacher = create('preact_resnet20_cifar').to({ memoryFormat: torch.channelsLast });
  cases['channels-last preact_resnet20 -> resnet20, b64'] = kdStep(clTeacher, create('resnet20_cifar'), torch.randn(64, 3, 32, 32), torch.randint(0, 10, [64]));
  cases['Linear 512->32000 (both), b256'] = kdStep(new torch.nn.Linear(512, 32000), new torch.nn.Linear(512, 32000), torch.randn(256, 512), torch.randint(0, 32000, [256]));
  return cases;
}

/** V8 collections seen while `fn` ran: counts by kind and milliseconds, delivered after a turn of the event loop. */
async function withGc(fn) {
  const entries = [];
  const obs = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  const value = fn();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 10));
  obs.disconnect();
  const kind = (e) => (e.detail ? e.detail.kind : e.kind);
  const count = (k) => entries.filter((e) => kind(e) === k).length;
  return {
    value,
    major: count(perfConstants.NODE_PERFORMANCE_GC_MAJOR),
    minor: count(perfConstants.NODE_PERFORMANCE_GC_MINOR),
    incremental: count(perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL),
    gcMs: entries.reduce((a, e) => a + e.duration, 0),
  };
}

function demoEpochNode(root, maxSteps) {
  const ds = new torch.data.FashionMNIST({ root, train: true, mean: 0.286, std: 0.353 });
  const train = new torch.data.TensorDataset(ds.images.narrow(0, 0, 54000), ds.labels.narrow(0, 0, 54000));
  torch.manualSeed(1);
  const step = kdStep(torch.models.create('simplenet_mnist'), torch.models.create('mlp_small_mnist'), null, null);
  const loader = new torch.data.DataLoader(train, { batchSize: 128, shuffle: true });
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (const [x, y] of loader) {
    step(x, y);
    x.dispose();
    y.dispose();
    n++;
    if (maxSteps && n >= maxSteps) break;
  }
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, steps: n };
}

async function trainSuite() {
  const py = spawn(python(), [path.join(__dirname, 'train_worker.py'), String(threads)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: py.stdout });
  const pending = [];
  lines.on('line', (l) => pending.shift()(JSON.parse(l)));
  const ask = (req) => new Promise((resolve) => {
    pending.push(resolve);
    py.stdin.write(JSON.stringify(req) + '\n');
  });
  const rows = [];
  const rounds = quick ? 3 : 7;
  for (const [name, step] of Object.entries(trainCases())) {
    const steps = name.includes('resnet') ? (quick ? 3 : 6) : quick ? 10 : 30;
    const nodeMs = [];
    const pyMs = [];
    const gc = { major: 0, minor: 0, incremental: 0, gcMs: 0 };
    step();
    step();
    for (let r = 0; r < rounds; r++) {
      const g = await withGc(() => {
        const ts = [];
        for (let i = 0; i < steps; i++) {
          const t0 = process.hrtime.bigint();
          step();
          ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        return ts;
      });
      nodeMs.push(...g.value);
      for (const k of Object.keys(gc)) gc[k] += g[k];
      pyMs.push(...(await ask({ case: name, steps })).ms);
    }
    const n = rounds * steps;
    const row = {
      case: name,
      nodeMs: median(nodeMs),
      pythonMs: median(pyMs),
      majorGcPerStep: gc.major / n,
      minorGcPerStep: gc.minor / n,
      incrementalGcPerStep: gc.incremental / n,
      gcMsPerStep: gc.gcMs / n,
    };
    row.ratio = row.nodeMs / row.pythonMs;
    rows.push(row);
    console.log(
      `${name.padEnd(46)} node ${row.nodeMs.toFixed(2).padStart(8)} ms   python ${row.pythonMs.toFixed(2).padStart(8)} ms   ratio ${row.ratio.toFixed(2)}` +
        `   V8 per step: ${row.majorGcPerStep.toFixed(2)} mark-compact, ${row.minorGcPerStep.toFixed(2)} scavenge, ${row.gcMsPerStep.toFixed(2)} ms`,
    );
  }
  const root = process.env.TORCHKD_FASHION_MNIST || '/usr/share/datasets/fashion-mnist';
  if (fs.existsSync(path.join(root, 'train-images-idx3-ubyte.gz'))) {
    const maxSteps = quick ? 100 : 0;
    const epochs = quick ? 1 : 2;
    const nodeMs = [];
    const pyMs = [];
    let steps = 0;
    const gc = { major: 0, minor: 0, incremental: 0, gcMs: 0 };
    for (let r = 0; r < epochs; r++) {
      const g = await withGc(() => demoEpochNode(root, maxSteps));
      nodeMs.push(g.value.ms);
      steps = g.value.steps;
      for (const k of Object.keys(gc)) gc[k] += g[k];
      pyMs.push(...(await ask({ case: 'demo KD epoch', data: root, maxSteps })).ms);
    }
    const row = {
      case: `demo KD epoch (${steps} steps)`,
      nodeMs: median(nodeMs),
      pythonMs: median(pyMs),
      majorGcPerStep: gc.major / (epochs * steps),
      minorGcPerStep: gc.minor / (epochs * steps),
      incrementalGcPerStep: gc.incremental / (epochs * steps),
      gcMsPerStep: gc.gcMs / (epochs * steps),
    };
    row.ratio = row.nodeMs / row.pythonMs;
    rows.push(row);
    console.log(
      `${row.case.padEnd(46)} node ${(row.nodeMs / 1000).toFixed(2).padStart(8)} s    python ${(row.pythonMs / 1000).toFixed(2).padStart(8)} s    ratio ${row.ratio.toFixed(2)}` +
        `   V8 per step: ${row.majorGcPerStep.toFixed(2)} mark-compact, ${row.minorGcPerStep.toFixed(2)} scavenge, ${row.gcMsPerStep.toFixed(2)} ms`,
    );
  }
  py.stdin.end();
  return rows;
}

// ---- teacher-logit cache --------------------------------------------------------------------------------------------

const TOPK_SIZES = [
  [256, 10, 5],
  [4096, 1000, 10],
  [2048, 32000, 64],
  [512, 128256, 64],
];

function cacheSuite() {
  const rows = [];
  const os = require('os');
  const root = process.env.TORCHKD_FASHION_MNIST || '/usr/share/datasets/fashion-mnist';
  const node = (argv) => runChild(process.execPath, ['--expose-gc', path.join(__dirname, 'cache_case.js'), ...argv.map(String)]);
  if (fs.existsSync(path.join(root, 'train-images-idx3-ubyte.gz'))) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-bench-cache-'));
    try {
      const dtype = 'float32';
      const dir = path.join(tmp, 'cache');
      const built = node(['build', root, dir, dtype]);
      const bytes = fs.readdirSync(dir).filter((f) => f.endsWith('.bin')).reduce((a, f) => a + fs.statSync(path.join(dir, f)).size, 0);
      console.log(`cache build (simplenet_mnist over 54000 samples, dense ${dtype}, ${(bytes / 1e6).toFixed(1)} MB)  ${(built.ms / 1000).toFixed(2)} s   peak RSS ${built.peakRssMB.toFixed(0)} MB`);
      rows.push({ case: `cache build, dense ${dtype}`, ms: built.ms, peakRssMB: built.peakRssMB, bytes });
      const maxSteps = quick ? 100 : 0;
      const runs = quick ? 1 : 3;
      const live = [];
      const cached = [];
      for (let r = 0; r < runs; r++) {
        live.push(node(['epoch', 'live', root, dir, maxSteps]));
        cached.push(node(['epoch', 'cache', root, dir, maxSteps]));
      }
      const row = {
        case: `demo KD epoch (${live[0].steps} steps)`,
        liveMs: median(live.map((x) => x.ms)),
        cacheMs: median(cached.map((x) => x.ms)),
        livePeakRssMB: median(live.map((x) => x.peakRssMB)),
        cachePeakRssMB: median(cached.map((x) => x.peakRssMB)),
      };
      row.speedup = row.liveMs / row.cacheMs;
      rows.push(row);
      console.log(
        `${row.case.padEnd(32)} live teacher ${(row.liveMs / 1000).toFixed(2)} s (peak RSS ${row.livePeakRssMB.toFixed(0)} MB)   ` +
          `dense cache ${(row.cacheMs / 1000).toFixed(2)} s (peak RSS ${row.cachePeakRssMB.toFixed(0)} MB)   speedup ${row.speedup.toFixed(2)}x`,
      );
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const sizes = quick ? TOPK_SIZES.slice(0, 2) : TOPK_SIZES;
  for (const [n, c, k] of sizes) {
    const reps = n * c > 5e7 ? 5 : n * c > 1e6 ? 11 : 51;
    const fused = node(['topk', 'fused', n, c, k, Math.max(reps, 21)]);
    const composite = node(['topk', 'composite', n, c, k, reps]);
    const eager = runChild(python(), [path.join(__dirname, 'topk_case.py'), n, c, k, reps, threads]);
    const row = {
      size: `${n}x${c} k=${k}`,
      fusedMs: fused.ms,
      compositeNodeMs: composite.ms,
      eagerPythonMs: eager.ms,
      fusedPeakExtraMB: fused.peakExtraMB,
      compositePeakExtraMB: composite.peakExtraMB,
      eagerPeakExtraMB: eager.peakExtraMB,
    };
    row.speedupVsComposite = composite.ms / fused.ms;
    row.speedupVsPython = eager.ms / fused.ms;
    rows.push(row);
    const ms = (v) => v.toFixed(3).padStart(9);
    console.log(
      `top-k KD ${row.size.padEnd(18)} fused ${ms(row.fusedMs)} ms (+${row.fusedPeakExtraMB.toFixed(0)} MB)   node composite ${ms(row.compositeNodeMs)} ms (+${row.compositePeakExtraMB.toFixed(0)} MB)` +
        `   python eager ${ms(row.eagerPythonMs)} ms (+${row.eagerPeakExtraMB.toFixed(0)} MB)   fused vs composite ${row.speedupVsComposite.toFixed(1)}x, vs python ${row.speedupVsPython.toFixed(1)}x`,
    );
  }
  return rows;
}

// ---- distributed ----------------------------------------------------------------------------------------------------

const net = require('net');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One 2-rank job: rank r runs `cmd` with torchrun's variables; resolves to rank 0's JSON line. */
async function distJob(cmd, argv, extraEnv = {}) {
  const port = await freePort();
  const ranks = [0, 1].map(
    (rank) =>
      new Promise((resolve, reject) => {
        const env = { ...process.env, ...extraEnv, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: '2', OMP_NUM_THREADS: '1' };
        const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${argv.join(' ')} rank ${rank} failed (${code}):\n${err}`))));
      }),
  );
  const [out0] = await Promise.all(ranks);
  return JSON.parse(out0.trim().split('\n').pop());
}

async function distSuite() {
  const jobs = quick ? 3 : 5;
  const cases = [
    ['allreduce', 1_000_000, quick ? 10 : 20, 'allreduce 1M float32'],
    ['allreduce', 10_000_000, quick ? 5 : 10, 'allreduce 10M float32'],
    ['ddp', 1024, quick ? 10 : 30, 'DDP step, MLP 784-1024-1024-10, batch 64/rank'],
  ];
  const rows = [];
  for (const [what, size, reps, label] of cases) {
    const nodeMs = [];
    const pyMs = [];
    for (let j = 0; j < jobs; j++) {
      nodeMs.push((await distJob(process.execPath, [path.join(__dirname, 'dist_case.js'), what, size, reps])).ms);
      pyMs.push((await distJob(python(), [path.join(__dirname, 'dist_case.py'), what, size, reps])).ms);
    }
    const row = { case: label, nodeMs: median(nodeMs), pythonMs: median(pyMs) };
    if (what === 'allreduce') {
      row.nodeGBps = (size * 4) / (row.nodeMs / 1000) / 1e9;
      row.pythonGBps = (size * 4) / (row.pythonMs / 1000) / 1e9;
      row.throughputRatio = row.nodeGBps / row.pythonGBps;
    } else {
      row.timeRatio = row.nodeMs / row.pythonMs;
    }
    rows.push(row);
    console.log(
      `${label.padEnd(48)} node ${row.nodeMs.toFixed(2).padStart(8)} ms   python ${row.pythonMs.toFixed(2).padStart(8)} ms   ` +
        (what === 'allreduce' ? `throughput node/python ${row.throughputRatio.toFixed(2)}` : `time node/python ${row.timeRatio.toFixed(2)}`),
    );
  }
  return rows;
}

// ---- the CPU allocator's large-block cache --------------------------------------------------------------------------

/** Training steps in fresh processes with torchkd's CPU allocator keeping freed large blocks and without, alternating. */
async function allocSuite() {
  const rounds = quick ? 2 : 3;
  const variants = [
    ['kept', {}],
    ['not kept', { TORCHKD_CPU_CACHE_MB: '0' }],
  ];
  const rows = [];
  const report = (label, res) => {
    const row = { case: label };
    for (const [name] of variants) row[name] = { ms: median(res[name].map((r) => r.ms)), peakRssMB: Math.max(...res[name].map((r) => r.peakRssMB)) };
    row.ratio = row.kept.ms / row['not kept'].ms;
    rows.push(row);
    const mem = (v) => `, peak RSS ${v.peakRssMB.toFixed(0)} MB`;
    console.log(`${label.padEnd(48)} kept ${row.kept.ms.toFixed(2).padStart(8)} ms${mem(row.kept)}   not kept ${row['not kept'].ms.toFixed(2).padStart(8)} ms${mem(row['not kept'])}   ratio ${row.ratio.toFixed(2)}`);
  };
  for (const [what, steps, label] of [
    ['resnet', quick ? 6 : 12, 'preact_resnet20 -> resnet20 KD step, b64'],
    ['linear', quick ? 10 : 30, 'Linear 512->32000 KD step, b256'],
  ]) {
    const res = { kept: [], 'not kept': [] };
    for (let r = 0; r < rounds; r++) {
      for (const [name, env] of variants) {
        const out = spawnSync(process.execPath, [path.join(__dirname, 'alloc_case.js'), what, String(steps)], { encoding: 'utf8', env: { ...process.env, ...env } });
        if (out.status !== 0) throw new Error(`alloc_case.js ${what} failed:\n${out.stderr}`);
        res[name].push(JSON.parse(out.stdout.trim().split('\n').pop()));
      }
    }
    report(label, res);
  }
  const res = { kept: [], 'not kept': [] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, env] of variants) res[name].push(await distJob(process.execPath, [path.join(__dirname, 'dist_case.js'), 'ddp', 1024, quick ? 10 : 30], env));
  }
  report('2-rank DDP step, MLP 784-1024-1024-10, b64/rank', res);
  return rows;
}

(async () => {
  const info = discover();
  console.log(`torchkd bench — libtorch ${info.versionString} (${info.cuda ? 'CUDA' : 'CPU'}), ${threads} threads, node ${process.version}`);
  const out = { date: new Date().toISOString(), libtorch: info.versionString, threads };
  if (suite === 'ops' || suite === 'all') out.ops = await opsSuite();
  if (suite === 'kd' || suite === 'all') out.kd = kdSuite();
  if (suite === 'train' || suite === 'all') out.train = await trainSuite();
  if (suite === 'dist' || suite === 'all') out.dist = await distSuite();
  if (suite === 'cache' || suite === 'all') out.cache = cacheSuite();
  if (suite === 'alloc' || suite === 'all') out.alloc = await allocSuite();
  fs.writeFileSync(path.join(__dirname, 'results.json'), JSON.stringify(out, null, 2) + '\n');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
