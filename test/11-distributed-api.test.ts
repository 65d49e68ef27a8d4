/**
 * torch.distributed in one process: a job of one rank (tcp://, file:// and a store), the getters, stores, groups,
 * collectives on a single rank, and every kind of bad argument as a TypeError, RangeError or TorchError (never a
 * C++ backtrace, never an abort).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { TorchError } from '../lib/index';
import { freePort } from './dist-helpers';

const dist = torch.distributed;

afterEach(() => {
  if (dist.isInitialized()) dist.destroyProcessGroup();
});

async function initOne(options: Record<string, unknown> = {}): Promise<void> {
  const port = await freePort();
  dist.initProcessGroup({ backend: 'gloo', initMethod: `tcp://127.0.0.1:${port}`, rank: 0, worldSize: 1, timeout: 10_000, ...options });
}

describe('before initProcessGroup', () => {
  it('is available with Gloo, not initialized, and the getters and collectives say so', () => {
    expect(dist.isAvailable()).toBe(true);
    expect(dist.isGlooAvailable()).toBe(true);
    expect(dist.isNcclAvailable()).toBe(false);
    expect(dist.isInitialized()).toBe(false);
    expect(() => dist.getRank()).toThrow(/Default process group has not been initialized/);
    expect(() => dist.allReduce(torch.ones(2))).toThrow(TorchError);
    expect(() => dist.barrier()).toThrow(TorchError);
  });

  it('bad rendezvous arguments are clear errors', () => {
    expect(() => dist.initProcessGroup({ backend: 'mpi' as never, initMethod: 'tcp://127.0.0.1:1', rank: 0, worldSize: 1 })).toThrow(RangeError);
    expect(() => dist.initProcessGroup({ initMethod: 'tcp://127.0.0.1', rank: 0, worldSize: 1 })).toThrow(/port number missing/);
    expect(() => dist.initProcessGroup({ initMethod: 'tcp://127.0.0.1:29999', worldSize: 1 })).toThrow(/rank parameter missing/);
    expect(() => dist.initProcessGroup({ initMethod: 'foo://x', rank: 0, worldSize: 1 })).toThrow(/No rendezvous handler/);
    expect(() => dist.initProcessGroup({ initMethod: 'tcp://127.0.0.1:1', rank: 0, worldSize: 1, timeout: -5 })).toThrow(RangeError);
    expect(() => dist.initProcessGroup({ initMethod: 'tcp://127.0.0.1:1', rank: 0.5, worldSize: 1 })).toThrow(TypeError);
    expect(() => dist.initProcessGroup({ bogus: 1 } as never)).toThrow(/unexpected option 'bogus'/);
    const saved = { ...process.env };
    try {
      delete process.env.MASTER_ADDR;
      delete process.env.RANK;
      delete process.env.WORLD_SIZE;
      expect(() => dist.initProcessGroup('gloo')).toThrow(/environment variable (RANK|WORLD_SIZE|MASTER_ADDR) expected, but not set/);
    } finally {
      Object.assign(process.env, saved);
    }
    expect(dist.isInitialized()).toBe(false);
  });
});

describe('a rendezvous that never completes', () => {
  it('rank 0 waiting for a peer that never comes, and a rank whose master is not there, fail with a TorchError within the timeout', async () => {
    for (const rank of [0, 1]) {
      const port = await freePort();
      const t0 = Date.now();
      let err: unknown;
      try {
        dist.initProcessGroup({ initMethod: `tcp://127.0.0.1:${port}`, rank, worldSize: 2, timeout: 2000 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TorchError);
      expect((err as TorchError).code).toBe(rank === 0 ? 'DIST_STORE_ERROR' : 'DIST_NETWORK_ERROR');
      expect((err as Error).message).toMatch(rank === 0 ? /waiting for clients. 1\/2 clients joined/ : /timed out after 2000ms while trying to connect to \(127.0.0.1, \d+\)/);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(dist.isInitialized()).toBe(false);
    }
  }, 30_000);
});

describe('a job of one rank', () => {
  it('tcp://: rank, size, backend, groups and every collective on one rank', async () => {
    await initOne();
    expect([dist.isInitialized(), dist.getRank(), dist.getWorldSize(), dist.getBackend()]).toEqual([true, 0, 1, 'gloo']);
    expect(dist.GroupMember.WORLD?.groupName).toBe('0');
    expect(() => dist.initProcessGroup({ initMethod: 'tcp://127.0.0.1:1', rank: 0, worldSize: 1 })).toThrow(/twice/);
    const t = torch.tensor([1, 2, 3], { dtype: 'float32' });
    dist.allReduce(t, dist.ReduceOp.AVG);
    expect(t.toArray()).toEqual([1, 2, 3]);
    // As in PyTorch's Gloo backend, AVG needs a floating-point tensor.
    expect(() => dist.allReduce(torch.tensor([1, 2]), dist.ReduceOp.AVG)).toThrow(TorchError);
    const list = [torch.zeros(3)];
    dist.allGather(list, t);
    expect(list[0].toArray()).toEqual([1, 2, 3]);
    const out = torch.zeros(3);
    dist.reduceScatterTensor(out, t, dist.ReduceOp.MAX);
    expect(out.toArray()).toEqual([1, 2, 3]);
    const g = dist.newGroup([0]) as torch.distributed.ProcessGroup;
    expect([g.groupName, dist.getRank(g), dist.getWorldSize(g)]).toEqual(['1', 0, 1]);
    const w = dist.allReduce(t, { group: g, asyncOp: true });
    await expect(w.wait()).resolves.toBe(true);
    expect(w.isCompleted()).toBe(true);
    dist.destroyProcessGroup(g);
    expect(() => dist.allReduce(t, { group: g })).toThrow(/was destroyed/);
    dist.destroyProcessGroup();
    expect(dist.isInitialized()).toBe(false);
    // Initialising again after destroying works, and names the default group "0" again.
    await initOne();
    expect(dist.GroupMember.WORLD?.groupName).toBe('0');
  });

  it('file:// and an explicit store rendezvous', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-dist-'));
    try {
      dist.initProcessGroup({ initMethod: `file://${path.join(dir, 'rdzv')}`, rank: 0, worldSize: 1, timeout: 10_000 });
      const t = torch.tensor([4, 5]);
      dist.broadcast(t, 0);
      expect(t.toArray()).toEqual([4, 5]);
      dist.destroyProcessGroup();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const port = await freePort();
    const store = new dist.TCPStore('127.0.0.1', port, { worldSize: 1, isMaster: true, timeout: 10_000 });
    store.set('k', 'v');
    expect(store.get('k').toString()).toBe('v');
    expect(store.add('n', 2)).toBe(2);
    expect(store.add('n', 3)).toBe(5);
    expect(store.check(['k', 'nope'])).toBe(false);
    expect(() => store.wait(['nope'], 200)).toThrow(TorchError);
    dist.initProcessGroup({ store, rank: 0, worldSize: 1, timeout: 10_000 });
    expect(dist.getWorldSize()).toBe(1);
    // The job's keys are under "default_pg" (Python's layout), apart from the user's.
    expect(store.get('k').toString()).toBe('v');
    expect(store.numKeys()).toBeGreaterThan(2);
  });

  it('bad collective arguments are TypeError/RangeError/TorchError without a C++ backtrace', async () => {
    await initOne();
    const t = torch.ones(3);
    const cases: [() => unknown, new (...a: never[]) => Error, RegExp][] = [
      [() => dist.allReduce([1, 2] as never), TypeError, /expected a Tensor for tensor/],
      [() => dist.allReduce(t, 'MEAN' as never), RangeError, /unknown ReduceOp/],
      [() => dist.allReduce(t, { asyncOp: 'yes' } as never), TypeError, /asyncOp/],
      [() => dist.allReduce(t, { group: 5 } as never), TypeError, /expected a ProcessGroup/],
      [() => dist.broadcast(t, 3), TorchError, /not part of group/],
      [() => dist.broadcast(t, { src: 0, groupSrc: 0 }), TorchError, /Can't specify both/],
      [() => dist.allGather([torch.zeros(3), torch.zeros(3)], t), TorchError, /./],
      [() => dist.allGather([torch.zeros(3, { dtype: 'float64' })], t), TorchError, /different dtypes/],
      [() => dist.allGatherIntoTensor(torch.zeros(5), t), TorchError, /outputTensor must hold worldSize \(1\) × inputTensor/],
      [() => dist.reduceScatterTensor(torch.zeros(2), t), TorchError, /input must hold worldSize \(1\) × output/],
      [() => dist.gather(t, null, 0), TorchError, /must be specified on destination rank/],
      [() => dist.scatter(t, null, 0), TorchError, /must be specified on source rank/],
      [() => dist.send(t, 0), TorchError, /should not be the same/],
      [() => dist.send(t, { dst: 0, tag: 0.5 } as never), TypeError, /tag/],
      [() => dist.allToAllSingle(torch.zeros(3), t, [4], [3]), TorchError, /./],
      [() => dist.allToAllSingle(torch.zeros(3), t, [-1] as never, null), TypeError, /non-negative integers/],
      [() => dist.newGroup([0, 0]), TorchError, /duplicate/],
      [() => dist.newGroup([1]), TorchError, /out of range/],
      [() => dist.getGroupRank(null, 7), TorchError, /not part of group/],
      [() => new dist.TCPStore('127.0.0.1', 70_000), RangeError, /port/],
    ];
    for (const [fn, type, msg] of cases) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err, String(fn)).toBeInstanceOf(type);
      expect((err as Error).message, String(fn)).toMatch(msg);
      expect((err as Error).message, String(fn)).not.toMatch(/Exception raised from|frame #\d/);
    }
    // The group still works after all of them.
    const u = torch.tensor([2, 3]);
    dist.allReduce(u, dist.ReduceOp.PRODUCT);
    expect(u.toArray()).toEqual([2, 3]);
  });
});

describe('DistributedDataParallel in a job of one rank', () => {
  it("wraps the module as Python does: state dict entries under 'module.', the plain names through ddp.module", async () => {
    await initOne();
    torch.manualSeed(0);
    const model = new torch.nn.Sequential(new torch.nn.Linear(3, 4), new torch.nn.BatchNorm1d(4), new torch.nn.Linear(4, 2));
    const ddp = new torch.nn.parallel.DistributedDataParallel(model, { bucketCapMb: 1 });
    expect(ddp.module).toBe(model);
    expect(Object.keys(ddp.stateDict()).slice(0, 2)).toEqual(['module.0.weight', 'module.0.bias']);
    expect(Object.keys(ddp.module.stateDict())).toEqual(Object.keys(model.stateDict()));
    expect(ddp.parameters()).toHaveLength(6);
    const y = ddp.call(torch.randn([5, 3])) as torch.Tensor;
    expect(y.shape).toEqual([5, 2]);
    y.sum().backward();
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
    // No gradient sync is prepared without autograd: forward under noGrad works and leaves the reducer idle.
    torch.noGrad(() => ddp.call(torch.randn([5, 3])));
    expect(ddp.bucketIndices().flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    ddp.dispose();
  });

  it('bad arguments are TypeError/RangeError/TorchError', async () => {
    await initOne();
    const DDP = torch.nn.parallel.DistributedDataParallel;
    const lin = new torch.nn.Linear(2, 2);
    expect(() => new DDP({} as never)).toThrow(TypeError);
    expect(() => new DDP(lin, { bogus: true } as never)).toThrow(/unexpected option 'bogus'/);
    expect(() => new DDP(lin, { bucketCapMb: 0 })).toThrow(RangeError);
    expect(() => new DDP(lin, { findUnusedParameters: 'yes' } as never)).toThrow(TypeError);
    expect(() => new DDP(lin, { deviceIds: [0] })).toThrow(TorchError);
    const frozen = new torch.nn.Linear(2, 2);
    frozen.requiresGrad_(false);
    expect(() => new DDP(frozen)).toThrow(/doesn't have any parameter that requires a gradient/);
    expect(() => ({ ddp: new DDP(lin) }).ddp.noSync(5 as never)).toThrow(TypeError);
  });

  it('noSync restores synchronisation after the function returns, throws, or its promise settles', async () => {
    await initOne();
    const ddp = new torch.nn.parallel.DistributedDataParallel(new torch.nn.Linear(2, 2));
    expect(ddp.noSync(() => ddp.requireBackwardGradSync)).toBe(false);
    expect(ddp.requireBackwardGradSync).toBe(true);
    expect(() =>
      ddp.noSync(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(ddp.requireBackwardGradSync).toBe(true);
    const p = ddp.noSync(async () => {
      await new Promise((r) => setTimeout(r, 5));
      return ddp.requireBackwardGradSync;
    });
    expect(ddp.requireBackwardGradSync).toBe(false);
    await expect(p).resolves.toBe(false);
    expect(ddp.requireBackwardGradSync).toBe(true);
  });
});
