'use strict';
/**
 * One rank of the distributed benchmark (bench/run.js dist): `node dist_case.js <allreduce|ddp> <size> <reps>` with
 * MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE set. bench/dist_case.py is the same in Python. Rank 0 prints one JSON
 * line: the median and fastest time per op (allreduce of `size` float32 values, or one DDP training step of an MLP
 * with `size` hidden units on a batch of 64 per rank), and its peak resident memory.
 */
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist', 'index.js'));

const [what, sizeArg, repsArg] = process.argv.slice(2);
const size = Number(sizeArg);
const reps = Number(repsArg);
const dist = torch.distributed;
const { nn } = torch;

dist.initProcessGroup({ backend: 'gloo', timeout: 120_000 });
const times = [];
if (what === 'allreduce') {
  const t = torch.ones([size]);
  for (let i = 0; i < 3; i++) dist.allReduce(t);
  for (let i = 0; i < reps; i++) {
    dist.barrier();
    const t0 = process.hrtime.bigint();
    dist.allReduce(t);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
} else {
  torch.manualSeed(0);
  const model = new nn.Sequential(new nn.Linear(784, size), new nn.ReLU(), new nn.Linear(size, size), new nn.ReLU(), new nn.Linear(size, 10));
  const ddp = new nn.parallel.DistributedDataParallel(model);
  const opt = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = torch.randn([64, 784]);
  const y = torch.randint(0, 10, [64]);
  const step = () => {
    opt.zeroGrad();
    torch.F.crossEntropy(ddp.call(x), y).backward();
    opt.step();
  };
  for (let i = 0; i < 5; i++) step();
  for (let i = 0; i < reps; i++) {
    dist.barrier();
    const t0 = process.hrtime.bigint();
    step();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
const sorted = [...times].sort((a, b) => a - b);
const peakRssMB = Number(require('fs').readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)[1]) / 1024;
if (dist.getRank() === 0) console.log(JSON.stringify({ ms: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], peakRssMB }));
dist.destroyProcessGroup();
