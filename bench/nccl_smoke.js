'use strict';
/**
 * NCCL smoke test for the GPU check (scripts/gpu-check.sh), one rank of a job started by `torchkd run` (env://):
 *
 *   node bin/torchkd.js run --nproc-per-node N bench/nccl_smoke.js
 *
 * Each rank uses CUDA device LOCAL_RANK % deviceCount, so N may exceed the number of GPUs (NCCL itself may refuse two
 * ranks on one device; the check records what happened). Checked against values computed here: allReduce (SUM, AVG,
 * MAX) for float32/float16/bfloat16, broadcast, allGather, reduceScatterTensor, an async allReduce, and five
 * SGD steps of a DistributedDataParallel CUDA model against the same steps of one model on the whole batch (rank 0
 * computes the reference). Prints one JSON line per rank ({rank, ok, checks, errors}) and exits 1 if any check failed.
 * NCCL_SMOKE_CPU=1 runs the same checks with Gloo on CPU tensors (the script's own dry run, on any machine).
 */
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist', 'index.js'));
const dist = torch.distributed;
const { nn, optim } = torch;

const checks = {};
const errors = [];
function check(name, cond, detail = '') {
  checks[name] = Boolean(cond);
  if (!cond) errors.push(`${name}${detail ? `: ${detail}` : ''}`);
}

async function main() {
  const rank = Number(process.env.RANK);
  const world = Number(process.env.WORLD_SIZE);
  const local = Number(process.env.LOCAL_RANK ?? rank);
  const cpu = process.env.NCCL_SMOKE_CPU === '1';
  const backend = cpu ? 'gloo' : 'nccl';
  const gpu = cpu ? null : local % torch.cuda.deviceCount();
  const device = cpu ? 'cpu' : `cuda:${gpu}`;
  if (!cpu) {
    torch.cuda.setDevice(gpu);
    check('ncclAvailable', dist.isNcclAvailable());
  }
  dist.initProcessGroup({ backend, timeout: 60_000 });
  check('backend', dist.getBackend() === backend, dist.getBackend());

  const n = 1024;
  const base = torch.arange(n, { dtype: 'float32' }).remainder(7);
  for (const dtype of cpu ? ['float32'] : ['float32', 'float16', 'bfloat16']) {
    const mine = () => base.add(rank + 1).to({ device, dtype });
    const sum = base.mul(world).add((world * (world + 1)) / 2);
    let t = mine();
    dist.allReduce(t, dist.ReduceOp.SUM);
    check(`allReduce.SUM.${dtype}`, t.float().cpu().equal(sum));
    t = mine();
    dist.allReduce(t, dist.ReduceOp.MAX);
    check(`allReduce.MAX.${dtype}`, t.float().cpu().equal(base.add(world)));
    t = mine();
    dist.allReduce(t, dist.ReduceOp.AVG);
    check(`allReduce.AVG.${dtype}`, t.float().cpu().allclose(sum.div(world), { rtol: 1e-2 }));
  }
  {
    const t = torch.full([n], rank, { device });
    dist.broadcast(t, world - 1);
    check('broadcast', t.cpu().equal(torch.full([n], world - 1)));
    const list = Array.from({ length: world }, () => torch.zeros([4], { device }));
    dist.allGather(list, torch.full([4], rank, { device, dtype: 'float32' }));
    check('allGather', list.every((x, r) => x.cpu().equal(torch.full([4], r, { dtype: 'float32' }))));
    const input = torch.arange(world * 4, { dtype: 'float32', device });
    const output = torch.zeros([4], { device });
    dist.reduceScatterTensor(output, input);
    check('reduceScatterTensor', output.cpu().equal(torch.arange(rank * 4, rank * 4 + 4, { dtype: 'float32' }).mul(world)));
    const a = torch.ones([n], { device });
    const work = dist.allReduce(a, dist.ReduceOp.SUM, { asyncOp: true });
    await work.wait();
    check('allReduce.async', a.cpu().equal(torch.full([n], world)));
  }

  // DDP: each rank takes its slice of a global batch; one model on the whole batch is the reference.
  torch.manualSeed(0);
  const make = () => new nn.Sequential(new nn.Linear(32, 64), new nn.ReLU(), new nn.Linear(64, 10));
  const model = make().to(device);
  const reference = make().to(device);
  reference.loadStateDict(model.stateDict());
  const ddp = new nn.parallel.DistributedDataParallel(model, { deviceIds: cpu ? null : [gpu], bucketCapMb: 0.001 });
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const refOpt = new optim.SGD(reference.parameters(), { lr: 0.1, momentum: 0.9 });
  const per = 8;
  for (let step = 0; step < 5; step++) {
    torch.manualSeed(100 + step);
    const x = torch.randn(per * world, 32, { device });
    const y = torch.randint(0, 10, [per * world], { device });
    opt.zeroGrad();
    torch.F.crossEntropy(ddp.call(x.narrow(0, rank * per, per)), y.narrow(0, rank * per, per)).backward();
    opt.step();
    refOpt.zeroGrad();
    torch.F.crossEntropy(reference.call(x), y).backward();
    refOpt.step();
  }
  let maxDiff = 0;
  const ref = reference.stateDict();
  for (const [k, v] of Object.entries(model.stateDict())) maxDiff = Math.max(maxDiff, v.sub(ref[k]).abs().max().item());
  check('ddp.matchesOneProcess', maxDiff <= 1e-5, `max |w - w_ref| = ${maxDiff}`);
  dist.barrier();
  dist.destroyProcessGroup();
  console.log(JSON.stringify({ rank, world, device, ok: errors.length === 0, maxDiff, checks, errors }));
  process.exitCode = errors.length === 0 ? 0 : 1;
}

main().catch((e) => {
  console.log(JSON.stringify({ rank: process.env.RANK, ok: false, checks, errors: [...errors, `${e.name}: ${e.message}`] }));
  process.exitCode = 1;
});
