'use strict';
/**
 * A rank of the distributed tests (test/11-*.test.ts): `node 11-dist-worker.js <dist/ path> <scenario> [json args]`,
 * with MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE in the environment (env:// rendezvous). Prints one JSON line of
 * results ({"results": {...}}) on stdout. test/11-dist-worker.py is the same scenarios in Python, so that Node ranks,
 * Python ranks and mixed jobs can be compared.
 */
const torch = require(process.argv[2]);
const dist = torch.distributed;
const scenario = process.argv[3];
const args = process.argv[4] ? JSON.parse(process.argv[4]) : {};

const DTYPES = ['float32', 'float64', 'int64'];
const SHAPES = [[5], [2, 3], [4, 1, 3]];

function out(t) {
  return { dtype: t.dtype, shape: t.shape, data: Array.from(t.data(), Number) };
}

/** Rank r's tensor for a case: small integers, exact in every dtype. */
function x(r, dtype, shape, plus = 0) {
  const n = shape.reduce((a, b) => a * b, 1);
  return torch.arange(n).remainder(5).add(1 + r + plus).reshape(shape).to(dtype);
}

async function collectives(rank, world) {
  const res = {};
  res.meta = {
    rank: dist.getRank(),
    worldSize: dist.getWorldSize(),
    backend: dist.getBackend(),
    initialized: dist.isInitialized(),
    available: dist.isAvailable(),
    gloo: dist.isGlooAvailable(),
    ranks: dist.getProcessGroupRanks(),
    nccl: dist.isNcclAvailable(),
    localRank: dist.getNodeLocalRank(),
    worldName: dist.GroupMember.WORLD.groupName,
    pgRankSize: [dist.GroupMember.WORLD.rank(), dist.GroupMember.WORLD.size()],
  };
  for (const dtype of DTYPES) {
    for (const shape of SHAPES) {
      const key = `${dtype}:${shape.join('x')}`;
      const ops = dtype === 'int64' ? ['SUM', 'PRODUCT', 'MIN', 'MAX', 'BAND', 'BOR', 'BXOR'] : ['SUM', 'AVG', 'PRODUCT', 'MIN', 'MAX'];
      for (const op of ops) {
        const t = x(rank, dtype, shape);
        dist.allReduce(t, dist.ReduceOp[op]);
        res[`allReduce.${op}.${key}`] = out(t);
      }
      {
        const t = x(rank, dtype, shape);
        dist.broadcast(t, 1);
        res[`broadcast.${key}`] = out(t);
      }
      {
        const list = Array.from({ length: world }, () => torch.zeros(shape, { dtype }));
        dist.allGather(list, x(rank, dtype, shape));
        res[`allGather.${key}`] = list.map(out);
      }
      {
        const o = torch.zeros([world * shape[0], ...shape.slice(1)], { dtype });
        dist.allGatherIntoTensor(o, x(rank, dtype, shape));
        res[`allGatherIntoTensor.${key}`] = out(o);
      }
      {
        const inp = torch.cat(Array.from({ length: world }, (_, k) => x(rank, dtype, shape, 10 * k)));
        const o = torch.zeros(shape, { dtype });
        dist.reduceScatterTensor(o, inp);
        res[`reduceScatterTensor.${key}`] = out(o);
      }
      {
        const t = x(rank, dtype, shape);
        dist.reduce(t, 1, dist.ReduceOp.MAX);
        if (rank === 1) res[`reduce.${key}`] = out(t);
      }
      {
        const list = rank === 0 ? Array.from({ length: world }, () => torch.zeros(shape, { dtype })) : null;
        dist.gather(x(rank, dtype, shape), list, 0);
        if (rank === 0) res[`gather.${key}`] = list.map(out);
      }
      {
        const list = rank === 1 ? Array.from({ length: world }, (_, k) => x(1, dtype, shape, 100 * k)) : null;
        const t = torch.zeros(shape, { dtype });
        dist.scatter(t, list, 1);
        res[`scatter.${key}`] = out(t);
      }
      {
        // rank 0 → 1 with a source, then 1 → 0 received from any source.
        const t = torch.zeros(shape, { dtype });
        if (rank === 0) {
          dist.send(x(0, dtype, shape), 1);
          const from = dist.recv(t);
          res[`recvAny.${key}`] = { from, t: out(t) };
        } else if (rank === 1) {
          const from = dist.recv(t, 0);
          res[`recv.${key}`] = { from, t: out(t) };
          dist.send(x(1, dtype, shape).mul(2), 0);
        }
      }
      {
        const k = 2;
        const inp = torch.arange(world * k).add(100 * rank).to(dtype);
        const o = torch.zeros([world * k], { dtype });
        dist.allToAllSingle(o, inp);
        res[`allToAllSingle.${key}`] = out(o);
      }
    }
  }
  // Uneven all-to-all (two ranks): rank 0 sends [1 | 3] elements, rank 1 [2 | 2].
  if (world === 2) {
    const inSplits = rank === 0 ? [1, 3] : [2, 2];
    const outSplits = rank === 0 ? [1, 2] : [3, 2];
    const inp = torch.arange(4).add(10 * rank).to('float32');
    const o = torch.zeros([outSplits[0] + outSplits[1]]);
    dist.allToAllSingle(o, inp, outSplits, inSplits);
    res.allToAllUneven = out(o);
  }
  // Asynchronous forms.
  {
    const t = x(rank, 'float32', [3]);
    const w = dist.allReduce(t, { asyncOp: true });
    const ok = await w.wait();
    res.asyncAllReduce = { ok, completed: w.isCompleted(), success: w.isSuccess(), t: out(t) };
    const b = x(rank, 'float64', [2]);
    const wb = dist.broadcast(b, 0, { asyncOp: true });
    await wb.wait();
    res.asyncBroadcast = out(b);
    const wbar = dist.barrier({ asyncOp: true });
    await wbar.wait();
    if (rank === 0) {
      const ws = dist.isend(x(0, 'int64', [4]), 1);
      await ws.wait();
      const r = torch.zeros([4], { dtype: 'int64' });
      const wr = dist.irecv(r);
      await wr.wait();
      res.asyncP2P = { from: wr.sourceRank(), t: out(r) };
    } else if (rank === 1) {
      const r = torch.zeros([4], { dtype: 'int64' });
      const wr = dist.irecv(r, 0);
      await wr.wait();
      const ws = dist.isend(r.mul(3), 0);
      await ws.wait();
      res.asyncP2P = { from: wr.sourceRank(), t: out(r) };
    }
  }
  dist.barrier();
  // Groups: all ranks (named "1"), then rank 1 alone ("2"; rank 0 is not a member).
  {
    const g = dist.newGroup([1, 0]);
    const t = x(rank, 'float32', [2]);
    dist.allReduce(t, { group: g });
    res.groupAll = { name: g.groupName, rank: dist.getRank(g), size: dist.getWorldSize(g), ranks: dist.getProcessGroupRanks(g), t: out(t) };
    const solo = dist.newGroup([1]);
    if (solo === dist.GroupMember.NON_GROUP_MEMBER) {
      res.groupSolo = { member: false, rank: dist.getRank(solo), size: dist.getWorldSize(solo) };
    } else {
      const s = x(rank, 'float32', [2]);
      dist.allReduce(s, { group: solo });
      res.groupSolo = {
        member: true,
        name: solo.groupName,
        rank: dist.getRank(solo),
        groupRank: dist.getGroupRank(solo, 1),
        globalRank: dist.getGlobalRank(solo, 0),
        t: out(s),
      };
    }
  }
  dist.barrier();
  dist.monitoredBarrier({ timeout: 30_000 });
  return res;
}

/** A rank that joins, signals it is ready, and then stops answering or exits (the dead/stalled peer tests). */
async function failing(rank) {
  const res = {};
  const t = torch.ones([4]);
  dist.allReduce(t);
  if (rank === (args.victim ?? 1)) {
    if (args.mode === 'exit') process.exit(3);
    // Stalled: alive, but never joins the next collective.
    await new Promise((r) => setTimeout(r, args.stallMs ?? 60_000));
    process.exit(0);
  }
  const start = Date.now();
  try {
    if (args.async) {
      await dist.allReduce(t, { asyncOp: true }).wait();
    } else {
      dist.allReduce(t);
    }
    res.error = null;
  } catch (e) {
    res.error = { name: e.constructor.name, code: e.code, message: String(e.message) };
  }
  res.ms = Date.now() - start;
  return res;
}

/** Rank args.victim stays away from a monitoredBarrier; the others report the error they get (rank 0's names it). */
async function monitored(rank) {
  const t = torch.ones([2]);
  dist.allReduce(t);
  if (rank === args.victim) {
    await new Promise((r) => setTimeout(r, args.stallMs));
    return { victim: true };
  }
  const start = Date.now();
  try {
    dist.monitoredBarrier({ timeout: args.barrierMs, waitAllRanks: !!args.waitAllRanks });
    return { error: null };
  } catch (e) {
    return { error: { name: e.constructor.name, code: e.code, message: String(e.message) }, ms: Date.now() - start };
  }
}

/** The ranks disagree on a collective (args.mismatch: 'size', 'dtype' or 'op'); each reports the error it got. */
async function mismatch(rank) {
  const res = {};
  try {
    if (args.mismatch === 'size') dist.allReduce(torch.ones([rank === 0 ? 3 : 5]));
    if (args.mismatch === 'dtype') dist.allReduce(torch.ones([3], { dtype: rank === 0 ? 'float32' : 'float64' }));
    if (args.mismatch === 'op') {
      if (rank === 0) dist.allReduce(torch.ones([3]));
      else dist.broadcast(torch.ones([3]), 0);
    }
    res.error = null;
  } catch (e) {
    res.error = { name: e.constructor.name, code: e.code, message: String(e.message) };
  }
  // The group still works after a mismatch is caught.
  const t = torch.ones([2]);
  dist.allReduce(t);
  res.after = Array.from(t.data());
  return res;
}

/** Rank 1 joins an allReduce 500 ms late; rank 0 awaits it asynchronously and counts its event loop's timer ticks. */
async function eventLoop(rank) {
  const t = torch.ones([1000]);
  if (rank === 1) {
    await new Promise((r) => setTimeout(r, 500));
    dist.allReduce(t);
    return { sum: t.sum().item() };
  }
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const start = Date.now();
  const work = dist.allReduce(t, { asyncOp: true });
  const completedAtOnce = work.isCompleted();
  await work.wait();
  clearInterval(timer);
  return { sum: t.sum().item(), ticks, ms: Date.now() - start, completedAtOnce };
}

// ---- DistributedDataParallel ----------------------------------------------------------------------------------

const nn = torch.nn;
const F = torch.nn.functional;
const B = 16;
const IN = 8;
const OUT = 4;

/** The job's data, the same in Node and Python without any random draw: x = sin(0.37 k), y = cos(0.23 k). */
function batch(rows, offset, dtype) {
  const x = torch.arange(rows * IN).add(offset * IN).to(dtype).mul(0.37).sin().reshape([rows, IN]);
  const y = torch.arange(rows * OUT).add(offset * OUT).to(dtype).mul(0.23).cos().reshape([rows, OUT]);
  return [x, y];
}

/** A trunk and two heads; `useA` picks the head, so the other head's parameters are unused in that iteration. */
class TwoHeads extends nn.Module {
  constructor() {
    super();
    this.trunk = new nn.Linear(IN, 16);
    this.a = new nn.Linear(16, OUT);
    this.b = new nn.Linear(16, OUT);
    this.useA = true;
  }
  forward(x) {
    const h = F.relu(this.trunk.call(x));
    return (this.useA ? this.a : this.b).call(h);
  }
}

function makeModel(kind, dtype) {
  torch.manualSeed(0);
  const m =
    kind === 'twoHeads'
      ? new TwoHeads()
      : kind === 'bn'
        ? new nn.Sequential(new nn.Linear(IN, 16), new nn.BatchNorm1d(16), new nn.ReLU(), new nn.Linear(16, OUT))
        : new nn.Sequential(new nn.Linear(IN, 32), new nn.ReLU(), new nn.Linear(32, 32), new nn.ReLU(), new nn.Linear(32, OUT));
  return dtype === 'float64' ? m.double() : m;
}

function weights(m) {
  return m.parameters().map((p) => Array.from(p.data(), Number));
}

/**
 * Trains `steps` SGD-momentum steps: either this rank's half of each batch under DDP, or (reference: true) the whole
 * batch in one process. mode 'plain': one batch per step; 'noSync': two micro-batches, the first under noSync;
 * 'unused': the two-head model, alternating heads.
 */
function train(rank, world, { mode = 'plain', steps = 20, dtype = 'float32', bucketCapMb, reference = false, findUnusedParameters, staticGraph = false }) {
  const model = makeModel(mode === 'unused' ? 'twoHeads' : mode === 'bn' ? 'bn' : 'mlp', dtype);
  // 'bn': each rank starts with its own running statistics; DDP must replace them with rank 0's.
  if (mode === 'bn') torch.noGrad(() => model.getBuffer('1.running_mean').fill_(rank + 1));
  const ddp = reference
    ? null
    : new nn.parallel.DistributedDataParallel(model, { ...(bucketCapMb ? { bucketCapMb } : {}), findUnusedParameters: findUnusedParameters ?? mode === 'unused', staticGraph });
  const buffersAtStart = model.buffers().map((b) => Array.from(b.data(), Number));
  const run = ddp ? (x) => ddp.call(x) : (x) => model.call(x);
  const opt = new torch.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const rows = reference ? B : B / world;
  const at = (micro) => (reference ? micro * B : micro * B + rank * rows);
  const losses = [];
  for (let step = 0; step < steps; step++) {
    opt.zeroGrad();
    if (mode === 'unused') model.useA = step % 2 === 0;
    if (mode === 'noSync') {
      const [x1, y1] = batch(rows, at(2 * step), dtype);
      const first = () => F.mseLoss(run(x1), y1).backward();
      if (ddp) ddp.noSync(first);
      else first();
    }
    const [x, y] = batch(rows, at(mode === 'noSync' ? 2 * step + 1 : step), dtype);
    const loss = F.mseLoss(run(x), y);
    loss.backward();
    losses.push(loss.item());
    opt.step();
  }
  const out = { weights: weights(model), losses };
  if (mode === 'bn') out.buffersAtStart = buffersAtStart;
  if (ddp) out.buckets = ddp.bucketIndices();
  if (mode === 'unused') out.gradNull = model.parameters().map((p) => p.grad === null);
  return out;
}

async function ddp(rank, world) {
  const res = { ddp: train(rank, world, args) };
  if (args.withReference) res.reference = train(rank, world, { ...args, reference: true });
  if (args.expectError) {
    try {
      train(rank, world, { ...args, ...args.expectError });
      res.error = null;
    } catch (e) {
      res.error = { name: e.constructor.name, code: e.code, message: String(e.message) };
    }
  }
  return res;
}

/**
 * Stores without a process group: rank 0 serves a TCPStore on MASTER_PORT, and both ranks write and read keys
 * through it and through PrefixStores over it (Python's key layout: "<prefix>/<key>").
 */
async function store(rank) {
  const s = new dist.TCPStore(process.env.MASTER_ADDR, Number(process.env.MASTER_PORT), { worldSize: 2, isMaster: rank === 0, timeout: 20_000 });
  const p = new dist.PrefixStore('job', s);
  const q = new dist.PrefixStore('inner', p);
  p.set(`from${rank}`, `hello from ${rank}`);
  q.set(`deep${rank}`, new Uint8Array([rank, 255, 0]));
  const added = p.add('count', 1 + rank);
  p.wait([`from${1 - rank}`, `inner/deep${1 - rank}`]);
  s.wait([`job/inner/deep${1 - rank}`], 5000);
  const res = {
    other: p.get(`from${1 - rank}`).toString(),
    raw: s.get(`job/from${1 - rank}`).toString(),
    deep: Array.from(q.get(`deep${1 - rank}`)),
    checkPrefixed: s.check([`job/from${rank}`, 'job/count']),
    checkMissing: p.check(['nope']),
    addedInRange: added === 1 + rank || added === 3,
  };
  // Both have added before either reads the total.
  p.add('done', 1);
  p.wait(['done']);
  while (Number(p.get('done').toString()) < 2) await new Promise((r) => setTimeout(r, 20));
  res.count = Number(p.get('count').toString());
  res.deleted = rank === 1 ? p.deleteKey('from1') : null;
  p.add('finished', 1);
  // The server (rank 0) stays up until the client is done with it.
  if (rank === 0) while (Number(p.get('finished').toString()) < 2) await new Promise((r) => setTimeout(r, 20));
  return res;
}

async function main() {
  if (scenario === 'store') {
    const rank = Number(process.env.RANK);
    process.stdout.write(`${JSON.stringify({ rank, results: await store(rank) })}\n`);
    return;
  }
  const timeout = args.timeout;
  const init = args.initMethod ? { initMethod: args.initMethod, rank: Number(process.env.RANK), worldSize: Number(process.env.WORLD_SIZE) } : {};
  dist.initProcessGroup({ backend: 'gloo', ...(timeout ? { timeout } : {}), ...init });
  const rank = dist.getRank();
  const world = dist.getWorldSize();
  let results;
  if (scenario === 'collectives') results = await collectives(rank, world);
  else if (scenario === 'failing') results = await failing(rank);
  else if (scenario === 'ddp') results = await ddp(rank, world);
  else if (scenario === 'eventLoop') results = await eventLoop(rank);
  else if (scenario === 'mismatch') results = await mismatch(rank);
  else if (scenario === 'monitored') results = await monitored(rank);
  else throw new Error(`unknown scenario ${scenario}`);
  process.stdout.write(`${JSON.stringify({ rank, results })}\n`);
  if (scenario !== 'failing' && scenario !== 'monitored') dist.destroyProcessGroup();
}

main().catch((e) => {
  process.stderr.write(`rank ${process.env.RANK}: ${e && e.stack}\n`);
  process.exit(1);
});
