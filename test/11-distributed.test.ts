/**
 * torch.distributed over Gloo, rank by rank: two Node ranks (child processes on 127.0.0.1) run every collective for
 * float32, float64 and int64 tensors of three shapes, and the results are checked against the values each op must
 * give. The same scenario runs with two Python ranks (torch.distributed, the reference) and with one Node and one
 * Python rank in one job, in both rank orders: every rank's results must be identical.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { expectClean, runJob, workerCommand } from './dist-helpers';
import { itWhen, pythonWithTorch } from './helpers';

const PY = pythonWithTorch();
const NO_PY = 'needs the Python oracle (the project venv with torch): none found';
const WORLD = 2;
const DTYPES = ['float32', 'float64', 'int64'] as const;
const SHAPES = [[5], [2, 3], [4, 1, 3]];

type Json = { dtype: string; shape: number[]; data: number[] };
type Results = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Rank r's values for a case (the workers' x()): (i mod 5) + 1 + r + plus. */
function xs(r: number, shape: number[], plus = 0): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => (i % 5) + 1 + r + plus);
}

function zip(rows: number[][], f: (v: number[]) => number): number[] {
  return rows[0].map((_, i) => f(rows.map((r) => r[i])));
}

const ranks = Array.from({ length: WORLD }, (_, r) => r);

function expectJson(got: Json, dtype: string, shape: number[], data: number[]): void {
  expect(got.dtype).toBe(dtype);
  expect(got.shape).toEqual(shape);
  expect(got.data).toEqual(data);
}

/** Every collective's result on every rank, from the values the ops must give. */
function checkCollectives(res: Results[]): void {
  for (const r of ranks) {
    const m = res[r].meta;
    expect(m).toEqual({
      rank: r,
      worldSize: WORLD,
      backend: 'gloo',
      initialized: true,
      available: true,
      gloo: true,
      ranks,
      nccl: false,
      localRank: r,
      worldName: '0',
      pgRankSize: [r, WORLD],
    });
  }
  for (const dtype of DTYPES) {
    for (const shape of SHAPES) {
      const key = `${dtype}:${shape.join('x')}`;
      const all = ranks.map((r) => xs(r, shape));
      const ops: Record<string, (v: number[]) => number> = {
        SUM: (v) => v.reduce((a, b) => a + b, 0),
        PRODUCT: (v) => v.reduce((a, b) => a * b, 1),
        MIN: (v) => Math.min(...v),
        MAX: (v) => Math.max(...v),
      };
      if (dtype !== 'int64') ops.AVG = (v) => v.reduce((a, b) => a + b, 0) / v.length;
      if (dtype === 'int64') {
        ops.BAND = (v) => v.reduce((a, b) => a & b);
        ops.BOR = (v) => v.reduce((a, b) => a | b);
        ops.BXOR = (v) => v.reduce((a, b) => a ^ b);
      }
      for (const r of ranks) {
        for (const [op, f] of Object.entries(ops)) expectJson(res[r][`allReduce.${op}.${key}`], dtype, shape, zip(all, f));
        expectJson(res[r][`broadcast.${key}`], dtype, shape, xs(1, shape));
        res[r][`allGather.${key}`].forEach((t: Json, k: number) => expectJson(t, dtype, shape, xs(k, shape)));
        expectJson(res[r][`allGatherIntoTensor.${key}`], dtype, [WORLD * shape[0], ...shape.slice(1)], ranks.flatMap((k) => xs(k, shape)));
        const chunks = ranks.map((k) => xs(k, shape, 10 * r));
        expectJson(res[r][`reduceScatterTensor.${key}`], dtype, shape, zip(chunks, ops.SUM));
        expectJson(res[r][`scatter.${key}`], dtype, shape, xs(1, shape, 100 * r));
        const a2a = ranks.flatMap((k) => [100 * k + 2 * r, 100 * k + 2 * r + 1]);
        expectJson(res[r][`allToAllSingle.${key}`], dtype, [WORLD * 2], a2a);
      }
      expectJson(res[1][`reduce.${key}`], dtype, shape, zip(all, ops.MAX));
      res[0][`gather.${key}`].forEach((t: Json, k: number) => expectJson(t, dtype, shape, xs(k, shape)));
      expect(res[1][`recv.${key}`].from).toBe(0);
      expectJson(res[1][`recv.${key}`].t, dtype, shape, xs(0, shape));
      expect(res[0][`recvAny.${key}`].from).toBe(1);
      expectJson(res[0][`recvAny.${key}`].t, dtype, shape, xs(1, shape).map((v) => 2 * v));
    }
  }
  // Uneven all-to-all: rank 0 gets [its 1st element | rank 1's first 2], rank 1 [rank 0's last 3 | its last 2].
  expectJson(res[0].allToAllUneven, 'float32', [3], [0, 10, 11]);
  expectJson(res[1].allToAllUneven, 'float32', [5], [1, 2, 3, 12, 13]);
  for (const r of ranks) {
    const a = res[r].asyncAllReduce;
    expect([a.ok, a.completed, a.success]).toEqual([true, true, true]);
    expectJson(a.t, 'float32', [3], zip(ranks.map((k) => xs(k, [3])), (v) => v[0] + v[1]));
    expectJson(res[r].asyncBroadcast, 'float64', [2], xs(0, [2]));
    expect(res[r].asyncP2P.from).toBe(r === 0 ? 1 : 0);
    expectJson(res[r].asyncP2P.t, 'int64', [4], xs(0, [4]).map((v) => (r === 0 ? 3 * v : v)));
    const g = res[r].groupAll;
    expect([g.name, g.rank, g.size, g.ranks]).toEqual(['1', r, WORLD, ranks]);
    expectJson(g.t, 'float32', [2], zip(ranks.map((k) => xs(k, [2])), (v) => v[0] + v[1]));
  }
  expect(res[0].groupSolo).toEqual({ member: false, rank: -1, size: -1 });
  expect(res[1].groupSolo).toMatchObject({ member: true, name: '2', rank: 0, groupRank: 0, globalRank: 1 });
  expectJson(res[1].groupSolo.t, 'float32', [2], xs(1, [2]));
}

describe('collectives between two Node ranks', () => {
  let res: Results[];
  beforeAll(async () => {
    res = expectClean(await runJob([workerCommand('node', '11-dist-worker', 'collectives'), workerCommand('node', '11-dist-worker', 'collectives')]));
  }, 120_000);

  it('every collective gives the expected values for float32/float64/int64 and several shapes, sync and async', () => {
    checkCollectives(res);
  });
});

describe('monitoredBarrier', () => {
  for (const waitAllRanks of [false, true]) {
    it(`names the rank that stays away (3 ranks${waitAllRanks ? ', waitAllRanks' : ''}): rank 0's TorchError says which`, async () => {
      const args = { victim: 2, stallMs: 6000, barrierMs: 2000, waitAllRanks, timeout: 20_000 };
      const res = await runJob([0, 1, 2].map(() => workerCommand('node', '11-dist-worker', 'monitored', args)), { timeoutMs: 60_000 });
      for (const r of res) expect(r.code, r.stderr).toBe(0);
      const [r0, r1, r2] = res.map((r) => r.results as { error?: { name: string; message: string } | null; ms?: number; victim?: boolean });
      expect(r2.victim).toBe(true);
      expect(r0.error?.name).toBe('TorchError');
      expect(r0.error?.message).toMatch(waitAllRanks ? /Ranks 2 failed to pass monitoredBarrier in 2000 ms/ : /Rank 2 failed to pass monitoredBarrier in 2000 ms/);
      expect(r0.ms).toBeLessThan(8000);
      // Rank 1 arrived; it fails too, as rank 0 never acknowledges (Python's behaviour).
      expect(r1.error?.name).toBe('TorchError');
    }, 90_000);
  }
});

describe('TORCH_DISTRIBUTED_DEBUG=DETAIL', () => {
  const DETAIL = { env: { TORCH_DISTRIBUTED_DEBUG: 'DETAIL' } };
  for (const mismatch of ['size', 'dtype', 'op']) {
    it(`ranks that disagree on a collective's ${mismatch === 'op' ? 'kind' : mismatch} get a TorchError naming the mismatch on every rank`, async () => {
      const res = expectClean(await runJob(ranks.map(() => workerCommand('node', '11-dist-worker', 'mismatch', { mismatch, timeout: 20_000 })), DETAIL)) as {
        error: { name: string; message: string } | null;
        after: number[];
      }[];
      for (const r of ranks) {
        expect(res[r].error?.name).toBe('TorchError');
        expect(res[r].error?.message).toMatch(new RegExp(`Detected mismatch between collectives on ranks. Rank ${r} is running collective: CollectiveFingerPrint`));
        expect(res[r].error?.message).toMatch(mismatch === 'size' ? /TensorShape=\[3\]/ : mismatch === 'dtype' ? /TensorDtypes=Double/ : /OpType=BROADCAST/);
        expect(res[r].after).toEqual([2, 2]);
      }
    }, 60_000);
  }

  itWhen(!!PY, NO_PY, 'a Node rank and a Python rank, both in DETAIL mode (the checking wrapper on both), agree on every collective', async () => {
    checkCollectives(expectClean(await runJob([workerCommand('node', '11-dist-worker', 'collectives'), workerCommand('python', '11-dist-worker', 'collectives')], DETAIL)));
  }, 120_000);
});

describe('asynchronous work', () => {
  it("waiting for a work leaves the event loop running: timers fire while a late peer's allReduce completes", async () => {
    const [r0, r1] = expectClean(await runJob([workerCommand('node', '11-dist-worker', 'eventLoop'), workerCommand('node', '11-dist-worker', 'eventLoop')])) as {
      sum: number;
      ticks?: number;
      ms?: number;
      completedAtOnce?: boolean;
    }[];
    expect([r0.sum, r1.sum]).toEqual([2000, 2000]);
    expect(r0.completedAtOnce).toBe(false);
    expect(r0.ms).toBeGreaterThanOrEqual(300);
    // A blocked JS thread would have let no 10 ms interval run at all.
    expect(r0.ticks).toBeGreaterThanOrEqual(10);
  }, 60_000);
});

describe('against Python torch.distributed', () => {
  itWhen(!!PY, NO_PY, 'two Python ranks (the reference) give the results two Node ranks give', async () => {
    const py = expectClean(await runJob([workerCommand('python', '11-dist-worker', 'collectives'), workerCommand('python', '11-dist-worker', 'collectives')]));
    checkCollectives(py);
  }, 120_000);

  for (const order of [['node', 'python'], ['python', 'node']] as const) {
    itWhen(!!PY, NO_PY, `a ${order[0]} rank 0 and a ${order[1]} rank 1 in one job agree on every collective`, async () => {
      const res = expectClean(await runJob(order.map((lang) => workerCommand(lang, '11-dist-worker', 'collectives'))));
      checkCollectives(res);
    }, 120_000);
  }

  itWhen(!!PY, NO_PY, 'a Node and a Python rank meet through a file:// rendezvous', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-rdzv-'));
    try {
      const args = { initMethod: `file://${path.join(dir, 'store')}` };
      checkCollectives(expectClean(await runJob([workerCommand('node', '11-dist-worker', 'collectives', args), workerCommand('python', '11-dist-worker', 'collectives', args)])));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  const STORE = { other: '', raw: '', deep: [] as number[], checkPrefixed: true, checkMissing: false, addedInRange: true, count: 3 };
  for (const langs of [['node', 'node'], ['python', 'python'], ['node', 'python'], ['python', 'node']] as const) {
    itWhen(!!PY, NO_PY, `TCPStore and PrefixStore: a ${langs[0]} server and a ${langs[1]} client see each other's keys in Python's layout`, async () => {
      const res = expectClean(await runJob(langs.map((l) => workerCommand(l, '11-dist-worker', 'store'))));
      for (const r of ranks) {
        expect(res[r]).toEqual({ ...STORE, other: `hello from ${1 - r}`, raw: `hello from ${1 - r}`, deep: [1 - r, 255, 0], deleted: r === 1 ? true : null });
      }
    }, 60_000);
  }
});

describe('what the workers exercise', () => {
  const dist = torch.distributed;
  /**
   * The torch.distributed API test/11-dist-worker.js calls; the jobs above compare what it gives with Python's
   * torch.distributed (Python ranks alone, and Node and Python ranks in one job).
   */
  const EXERCISED: Record<string, unknown> = {
    initProcessGroup: dist.initProcessGroup,
    destroyProcessGroup: dist.destroyProcessGroup,
    newGroup: dist.newGroup,
    isAvailable: dist.isAvailable,
    isGlooAvailable: dist.isGlooAvailable,
    isNcclAvailable: dist.isNcclAvailable,
    isInitialized: dist.isInitialized,
    getRank: dist.getRank,
    getWorldSize: dist.getWorldSize,
    getBackend: dist.getBackend,
    getProcessGroupRanks: dist.getProcessGroupRanks,
    getGroupRank: dist.getGroupRank,
    getGlobalRank: dist.getGlobalRank,
    getNodeLocalRank: dist.getNodeLocalRank,
    GroupMember: dist.GroupMember,
    'GroupMember.WORLD': dist.GroupMember.WORLD,
    'GroupMember.NON_GROUP_MEMBER': dist.GroupMember.NON_GROUP_MEMBER,
    ReduceOp: dist.ReduceOp,
    allReduce: dist.allReduce,
    broadcast: dist.broadcast,
    allGather: dist.allGather,
    allGatherIntoTensor: dist.allGatherIntoTensor,
    reduceScatterTensor: dist.reduceScatterTensor,
    reduce: dist.reduce,
    gather: dist.gather,
    scatter: dist.scatter,
    send: dist.send,
    recv: dist.recv,
    isend: dist.isend,
    irecv: dist.irecv,
    allToAllSingle: dist.allToAllSingle,
    barrier: dist.barrier,
    monitoredBarrier: dist.monitoredBarrier,
    TCPStore: dist.TCPStore,
    PrefixStore: dist.PrefixStore,
  };
  it('every function the Python comparisons cover is called by the Node worker', () => {
    const src = fs.readFileSync(path.join(__dirname, '11-dist-worker.js'), 'utf8');
    for (const name of Object.keys(EXERCISED)) {
      expect(EXERCISED[name], name).toBeDefined();
      expect(src, name).toMatch(new RegExp(`\\bdist\\.${name.replace('.', '\\.')}\\b`));
    }
    // Works (async handles), process groups and stores are the classes of what these calls return.
    expect(dist.Work.prototype.wait).toBeTypeOf('function');
    expect(dist.ProcessGroup.prototype.rank).toBeTypeOf('function');
    expect(dist.Store.prototype.get).toBeTypeOf('function');
    expect(dist.FileStore.prototype).toBeInstanceOf(dist.Store);
  });
});

describe('a dead or stalled peer', () => {
  const TIMEOUT = 4000;
  const cases = [
    { mode: 'exit', async: false },
    { mode: 'exit', async: true },
    { mode: 'stall', async: false },
    { mode: 'stall', async: true },
  ];
  for (const c of cases) {
    it(`a peer that ${c.mode === 'exit' ? 'exits' : 'stops answering'} fails the survivor's ${c.async ? 'async' : 'sync'} allReduce with a TorchError within the timeout`, async () => {
      const args = { ...c, timeout: TIMEOUT, stallMs: TIMEOUT + 4000 };
      const [survivor, victim] = await runJob([workerCommand('node', '11-dist-worker', 'failing', args), workerCommand('node', '11-dist-worker', 'failing', args)], { timeoutMs: 60_000 });
      expect(victim.code).toBe(c.mode === 'exit' ? 3 : 0);
      // The survivor ends normally (no abort, no hang), having caught the error as a JS TorchError.
      expect(survivor.signal, survivor.stderr).toBeNull();
      expect(survivor.code, survivor.stderr).toBe(0);
      const r = survivor.results as { error: { name: string; code: string; message: string } | null; ms: number };
      expect(r.error).not.toBeNull();
      expect(r.error!.name).toBe('TorchError');
      expect(r.error!.code).toMatch(/^DIST_/);
      expect(r.error!.message).not.toMatch(/Exception raised from|frame #/);
      expect(r.ms).toBeLessThan(TIMEOUT + 8000);
      if (c.mode === 'stall') expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT - 500);
    }, 90_000);
  }
});
