/**
 * Tensor lifetime: dispose(), `using`, tidy(), keep(), torch.memory(), and garbage collection of native memory
 * (these tests drive the collector themselves: forceGc in test/helpers.ts).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { beforeEach, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { native } from '../lib/binding';
import { type Tensor, TorchError } from '../lib/index';
import { forceGc, itWhen } from './helpers';

function live(): number {
  return torch.memory().liveTensors;
}

function cpuBytes(): number {
  return torch.memory().bytes.cpu ?? 0;
}

// Tensors left unreachable by earlier tests would otherwise be freed by a collection in the middle of a test, and
// move the counts it compares.
beforeEach(forceGc);

describe('dispose', () => {
  it('frees the tensor now: live count and bytes drop', () => {
    const before = torch.memory();
    const t = torch.zeros(1000);
    expect(live()).toBe(before.liveTensors + 1);
    expect(cpuBytes()).toBe((before.bytes.cpu ?? 0) + 4000);
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(live()).toBe(before.liveTensors);
    expect(cpuBytes()).toBe(before.bytes.cpu ?? 0);
  });

  it('is idempotent', () => {
    const t = torch.ones(3);
    t.dispose();
    expect(() => t.dispose()).not.toThrow();
  });

  it('use after dispose throws TorchError DISPOSED with a clear message', () => {
    const t = torch.ones(3);
    t.dispose();
    const uses: (() => unknown)[] = [
      () => t.add(1),
      () => t.shape,
      () => t.dtype,
      () => t.item(),
      () => t.data(),
      () => t.toArray(),
      () => t.sum(),
      () => torch.ones(3).add(t),
      () => torch.cat([t, torch.ones(3)]),
      () => torch.F.relu(t),
      () => t.backward(),
    ];
    for (const use of uses) {
      let err: unknown;
      try {
        use();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TorchError);
      expect((err as TorchError).code).toBe('DISPOSED');
      expect((err as TorchError).message).toMatch(/disposed/);
    }
  });

  it('disposing a view leaves its base usable, and disposing the base leaves the view usable', () => {
    const base = torch.arange(6, { dtype: 'float32' });
    const view = base.view(2, 3);
    view.dispose();
    expect(base.sum().item()).toBe(15);
    const view2 = base.view(3, 2);
    base.dispose();
    expect(view2.sum().item()).toBe(15);
  });

  it('a view shares bytes: memory() counts the storage once', () => {
    const before = cpuBytes();
    const base = torch.zeros(256);
    const views = [base.view(16, 16), base.narrow(0, 0, 10)];
    expect(cpuBytes()).toBe(before + 1024);
    for (const v of [base, ...views]) v.dispose();
    expect(cpuBytes()).toBe(before);
  });

  it('V8 hears about a large storage once: views and detach() of it add no external memory', () => {
    // What the addon accounts to V8 as external memory. Counting a 16 MiB tensor again for each view would make V8
    // run a full collection for memory that was never allocated.
    const MiB = 2 ** 20;
    const external = (): number => native().memory().externalBytes;
    const e0 = external();
    const big = torch.zeros([1024, 4096]); // 16 MiB
    const e1 = external();
    expect(e1 - e0).toBe(16 * MiB);
    const views = [big.detach(), big.view(-1), big.t(), big.narrow(0, 0, 512), big.detach().requiresGrad_(true)];
    expect(external()).toBe(e1);
    big.dispose(); // the views still hold the storage: still counted
    expect(external()).toBe(e1);
    for (const v of views) v.dispose();
    expect(external()).toBe(e0);
    // A fresh result of the same size is counted again.
    const fresh = torch.ones([1024, 4096]);
    expect(external() - e0).toBe(16 * MiB);
    fresh.dispose();
    expect(external()).toBe(e0);
  });

  it('disposing the wrapper returned by .grad does not free the gradient', () => {
    const x = torch.ones(3, { requiresGrad: true });
    x.mul(2).sum().backward();
    x.grad!.dispose();
    expect(x.grad!.toArray()).toEqual([2, 2, 2]);
  });
});

describe('using', () => {
  it('[Symbol.dispose] disposes', () => {
    const t = torch.ones(2);
    t[Symbol.dispose]();
    expect(t.isDisposed).toBe(true);
  });

  it('a `using` declaration disposes at the end of its block', () => {
    const start = live();
    let escaped: Tensor;
    {
      using t = torch.ones(4);
      escaped = t;
      expect(live()).toBe(start + 1);
    }
    expect(escaped.isDisposed).toBe(true);
    expect(live()).toBe(start);
  });
});

describe('tidy', () => {
  it('disposes every tensor created inside except the one it returns', () => {
    const start = live();
    const inner: Tensor[] = [];
    const out = torch.tidy(() => {
      const a = torch.ones(3);
      const b = a.mul(2);
      inner.push(a, b);
      return b.add(1);
    });
    expect(inner.every((t) => t.isDisposed)).toBe(true);
    expect(out.toArray()).toEqual([3, 3, 3]);
    expect(live()).toBe(start + 1);
    out.dispose();
  });

  it('keeps tensors returned inside arrays, plain objects and {values, indices}', () => {
    const start = live();
    const r = torch.tidy(() => {
      const x = torch.tensor([3, 1, 2]);
      return { list: [x.add(1), x.mul(2)], nested: { top: x.topk(2) }, n: 5 };
    });
    expect(r.list[0].toArray()).toEqual([4, 2, 3]);
    expect(r.nested.top.values.toArray()).toEqual([3, 2]);
    expect(r.nested.top.indices.toArray()).toEqual([0, 2]);
    expect(live()).toBe(start + 4);
    for (const t of [...r.list, r.nested.top.values, r.nested.top.indices]) t.dispose();
    expect(live()).toBe(start);
  });

  it('leaves tensors created outside alone', () => {
    const outside = torch.ones(2);
    torch.tidy(() => outside.add(1));
    expect(outside.isDisposed).toBe(false);
  });

  it('nests: tensors returned by an inner tidy belong to the outer one', () => {
    const start = live();
    let fromInner: Tensor | null = null;
    torch.tidy(() => {
      fromInner = torch.tidy(() => torch.ones(2).mul(3));
      expect(fromInner.isDisposed).toBe(false);
      return null;
    });
    expect(fromInner!.isDisposed).toBe(true);
    expect(live()).toBe(start);
  });

  it('keep() exempts a tensor from the enclosing tidy', () => {
    let kept: Tensor | null = null;
    torch.tidy(() => {
      kept = torch.keep(torch.ones(2));
      torch.ones(5);
    });
    expect(kept!.isDisposed).toBe(false);
    kept!.dispose();
  });

  it('reports to V8 only what leaves the outermost scope: returned, kept, or nested and then returned', () => {
    // Activations a scope frees must not count towards V8's external-memory limits (they would trigger a full
    // collection every training step); what outlives the scope is the garbage collector's again and is counted.
    const MiB = 2 ** 20;
    const external = (): number => native().memory().externalBytes;
    const e0 = external();
    let inside = -1;
    let kept: Tensor | null = null;
    const [returned, nested] = torch.tidy(() => {
      for (let i = 0; i < 8; i++) torch.zeros([1024, 4096]).add(1); // 2 × 16 MiB each, freed by the scope
      kept = torch.keep(torch.ones([1024, 1024])); // 4 MiB
      const r = torch.ones([1024, 2048]); // 8 MiB
      const n = torch.tidy(() => torch.ones([512, 1024])); // 2 MiB, returned to the outer scope, then out of it
      inside = external();
      return [r, n];
    });
    expect(inside).toBe(e0 + 4 * MiB);
    expect(external()).toBe(e0 + 14 * MiB);
    expect(torch.tidy(() => returned.sum().item())).toBe(1024 * 2048);
    // Disposing what was counted uncounts it exactly; what the scope freed was never counted.
    for (const t of [returned, nested, kept!]) t.dispose();
    expect(external()).toBe(e0);
    // A scope that throws leaves the depth as it was: tensors made after it are counted at once.
    expect(() =>
      torch.tidy(() => {
        torch.ones([1024, 1024]);
        throw new Error('inside');
      }),
    ).toThrow('inside');
    const after = torch.ones([1024, 1024]);
    expect(external()).toBe(e0 + 4 * MiB);
    after.dispose();
    expect(external()).toBe(e0);
  });

  it('disposes what it created when the function throws, and rethrows', () => {
    const start = live();
    expect(() =>
      torch.tidy(() => {
        torch.ones(10);
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(live()).toBe(start);
  });

  it('rejects async functions with a TypeError (after disposing what they created synchronously)', () => {
    const start = live();
    expect(() =>
      torch.tidy(async () => {
        torch.ones(2);
      }),
    ).toThrow(TypeError);
    expect(live()).toBe(start);
  });

  it('a 10,000-iteration training-like loop returns torch.memory() to its start', () => {
    const w = torch.randn([16, 8], { requiresGrad: true });
    const x = torch.randn(4, 16);
    const start = torch.memory();
    for (let i = 0; i < 10_000; i++) {
      torch.tidy(() => {
        const loss = x.matmul(w).relu().pow(2).mean();
        loss.backward();
        torch.noGrad(() => w.sub_(w.grad!.mul(1e-4)));
        w.grad = null;
      });
    }
    expect(torch.memory()).toEqual(start);
    expect(w.isDisposed).toBe(false);
  });
});

describe('garbage collection', () => {
  it('GC alone frees unreachable tensors (large ones individually, small ones in groups of 32)', () => {
    forceGc();
    const start = live();
    let held: Tensor[] | null = [];
    for (let i = 0; i < 2000; i++) held.push(torch.zeros(8), torch.zeros(8192));
    forceGc();
    expect(live()).toBeGreaterThanOrEqual(start + 4000); // still reachable: nothing freed
    expect(held.length).toBe(4000);
    held = null;
    forceGc();
    // At most one partly-filled group of small tensors (< 32) may still be pinned by the current arena.
    expect(live() - start).toBeLessThan(32);
  });

  it('keeps RSS bounded over 200k iterations allocating 64 KiB tensors with no dispose (GC only)', () => {
    forceGc();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const N = 200_000;
    let sum = 0;
    for (let i = 0; i < N; i++) {
      const t = torch.full([16384], 1, { dtype: 'float32' }); // 64 KiB
      if (i % 1000 === 0) {
        sum += t.numel();
        peak = Math.max(peak, process.memoryUsage().rss);
      }
    }
    forceGc();
    const allocated = N * 64 * 1024; // 12.5 GiB in total
    const growth = peak - rss0;
    console.log(`RSS growth over ${N} x 64 KiB allocations: ${(growth / 2 ** 20).toFixed(1)} MiB (allocated ${(allocated / 2 ** 30).toFixed(1)} GiB)`);
    expect(sum).toBe(200 * 16384);
    // Well under the total: a bounded working set (V8's external-memory pressure triggers collection).
    expect(growth).toBeLessThan(allocated / 20);
    expect(growth).toBeLessThan(1024 * 1024 * 1024);
  });

  it('keeps the live count bounded over a long loop of small tensors (GC only)', () => {
    forceGc();
    const start = live();
    for (let i = 0; i < 100_000; i++) torch.ones(4).add(1);
    forceGc();
    expect(live() - start).toBeLessThan(64);
  });
});

// lib/tensor/lifetime.ts keeps V8's young generation at its starting size (1 MiB semi-spaces, 2 MiB of new space) so
// that scavenges free GC-only tensors while their memory is warm. Measured in fresh processes after 400,000 small ops,
// which grow it to 8 MiB or more where V8 sizes it alone.
describe("V8's young generation in a loop of small ops", () => {
  const DIST = path.join(__dirname, '..', 'dist', 'index.js');
  const START = 2 * 1024 * 1024;
  // Node 20's V8 (11.x) reads the growth factor on every resize; newer V8 raises a factor below 2 to 2.
  const TUNABLE = /^11\./.test(process.versions.v8);
  const child = `const torch = require(${JSON.stringify(DIST)});
const a = torch.rand(8, 8), b = torch.rand(8, 8);
for (let i = 0; i < 400000; i++) a.add(b);
const s = require('v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
process.stdout.write(String(s.space_size));`;

  function newSpaceBytes(nodeArgs: string[], env: Record<string, string>): number {
    const base = { ...process.env };
    delete base.TORCHKD_GC_TUNING;
    delete base.NODE_OPTIONS;
    const r = spawnSync(process.execPath, [...nodeArgs, '-e', child], { encoding: 'utf8', env: { ...base, ...env } });
    expect(r.status, r.stderr).toBe(0);
    return Number(r.stdout);
  }

  itWhen(TUNABLE, `V8 ${process.versions.v8} raises a semi-space growth factor below 2 to 2`, 'stays at its starting size once torchkd is loaded', () => {
    expect(newSpaceBytes([], {})).toBe(START);
  }, 60_000);

  it('grows as V8 sizes it with TORCHKD_GC_TUNING=0', () => {
    expect(newSpaceBytes([], { TORCHKD_GC_TUNING: '0' })).toBeGreaterThan(START);
  }, 60_000);

  it("is left to the user's own sizing, on the command line or in NODE_OPTIONS", () => {
    expect(newSpaceBytes(['--max-semi-space-size=4'], {})).toBeGreaterThan(START);
    expect(newSpaceBytes([], { NODE_OPTIONS: '--max-semi-space-size=4' })).toBeGreaterThan(START);
    expect(newSpaceBytes(['--semi-space-growth-factor=2'], {})).toBeGreaterThan(START);
  }, 60_000);
});

// native/cpu_allocator.cc serves libtorch's CPU tensors: malloc blocks aligned inside below 256 KiB, kept and reused
// large blocks from 256 KiB up, one deleter for both.
describe('the CPU allocator', () => {
  const DIST = path.join(__dirname, '..', 'dist');
  // float32 element counts on both sides of the 256 KiB split (65,536 elements), of 2 MiB and of 32 MiB (where glibc
  // maps blocks of its own), and of the small-tensor limit.
  const SIZES = [1, 3, 4, 15, 16, 17, 64, 100, 4095, 4096, 4097, 65_535, 65_536, 65_537, 524_287, 524_288, 524_289, 1_000_000, 8_388_608];

  it("is torchkd's, and every tensor's data is 64-byte aligned as with libtorch's", () => {
    expect(native().cpuAllocator()).toBe('torchkd');
    for (const n of SIZES) {
      const t = torch.arange(n, { dtype: 'float32' });
      expect(t.dataPtr() % 64, `${n} elements`).toBe(0);
      const v = t.data();
      expect([v[0], v[n - 1]]).toEqual([0, n - 1]);
      t.dispose();
    }
    for (const dtype of ['float64', 'int64', 'int32', 'uint8', 'bool'] as const) {
      const t = torch.ones(7, { dtype });
      expect(t.dataPtr() % 64).toBe(0);
      t.dispose();
    }
  });

  it('frees and reuses blocks of both kinds, in any order, without touching live data', () => {
    forceGc();
    const start = cpuBytes();
    let seed = 12345;
    const next = (k: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % k;
    };
    const live: { t: Tensor; n: number; fill: number }[] = [];
    for (let i = 0; i < 3000; i++) {
      const n = SIZES[next(SIZES.length)];
      const fill = i % 251;
      live.push({ t: torch.full([n], fill, { dtype: 'float32' }), n, fill });
      if (live.length > 40) live.splice(next(live.length), 1)[0].t.dispose();
    }
    for (const { t, n, fill } of live) {
      expect(torch.tidy(() => [t.min().item(), t.max().item(), t.numel()])).toEqual([fill, fill, n]);
      t.dispose();
    }
    expect(cpuBytes()).toBe(start);
  });

  it("resizes, clones and serialises through it as through libtorch's", () => {
    const t = torch.arange(10, { dtype: 'float32' });
    const big = torch.cat([t, torch.zeros(600_000)]);
    expect(big.dataPtr() % 64).toBe(0);
    expect(big.narrow(0, 0, 10).toArray()).toEqual(t.toArray());
    const back = torch.loadFromBuffer(torch.saveToBuffer({ t, big })) as { t: Tensor; big: Tensor };
    expect(back.t.toArray()).toEqual(t.toArray());
    expect(back.big.sum().item()).toBe(45);
  });

  // 100,000 float32 values and the 64-byte header take 98 pages, which round up to the class of 104 pages (425,984
  // bytes); 99,000 values (97 pages) round to the same class, 110,000 values (108 pages) to 112 pages.
  const F32 = { dtype: 'float32' } as const;
  const CLASS_104 = 104 * 4096;
  const CLASS_112 = 112 * 4096;
  // The block of `n` float32 values: whole pages with the header, eight classes per doubling from 16 pages.
  function blockBytesOf(n: number): number {
    let pages = Math.ceil((4 * n + 64) / 4096);
    if (pages > 16) {
      const step = 2 ** Math.floor(Math.log2(pages)) / 8;
      pages = Math.ceil(pages / step) * step;
    }
    return pages * 4096;
  }

  function emptyCache(): void {
    forceGc();
    native().cpuCache(true);
    expect(native().cpuCache().keptBytes).toBe(0);
  }

  it('keeps a freed large block and gives it to the next request of its size class, the most recently freed first', () => {
    emptyCache();
    expect(native().cpuCache().limitBytes).toBe(1024 * 2 ** 20);
    const a = torch.full([100_000], 3, F32);
    const b = torch.full([100_000], 4, F32);
    const [pa, pb] = [a.dataPtr(), b.dataPtr()];
    a.dispose();
    expect(native().cpuCache().keptBytes).toBe(CLASS_104);
    b.dispose();
    expect(native().cpuCache().keptBytes).toBe(2 * CLASS_104);
    const c = torch.full([99_000], 5, F32);
    expect(c.dataPtr()).toBe(pb);
    const d = torch.full([100_000], 6, F32);
    expect(d.dataPtr()).toBe(pa);
    expect(native().cpuCache().keptBytes).toBe(0);
    const e = torch.full([110_000], 7, F32); // another class: a new block
    expect([e.dataPtr() % 64, e.dataPtr() === pa || e.dataPtr() === pb]).toEqual([0, false]);
    expect(torch.tidy(() => [c.min().item(), c.max().item(), d.min().item(), d.max().item(), e.sum().item()])).toEqual([5, 5, 6, 6, 770_000]);
    for (const t of [c, d, e]) t.dispose();
    expect(native().cpuCache().keptBytes).toBe(2 * CLASS_104 + CLASS_112);
    // Giving them back leaves nothing kept and the allocator working.
    native().cpuCache(true);
    expect(native().cpuCache().keptBytes).toBe(0);
    expect(torch.tidy(() => torch.full([100_000], 2, F32).sum().item())).toBe(200_000);
  });

  it('keeps nothing of a tensor that lives on: views, clones and in-place ops leave the kept total alone', () => {
    emptyCache();
    const t = torch.arange(200_000, F32);
    const v = t.narrow(0, 10, 100_000);
    t.dispose();
    expect(native().cpuCache().keptBytes).toBe(0); // the view holds the storage
    v.mul_(2);
    expect(torch.tidy(() => v.narrow(0, 0, 3).toArray())).toEqual([20, 22, 24]);
    v.dispose();
    expect(native().cpuCache().keptBytes).toBe(blockBytesOf(200_000));
    emptyCache();
  });

  it('gives the kept blocks back when an allocation fails, and the failure is still an OutOfMemoryError', () => {
    emptyCache();
    torch.full([100_000], 1, F32).dispose();
    expect(native().cpuCache().keptBytes).toBe(CLASS_104);
    expect(() => torch.empty([1024, 1024, 1024, 1024])).toThrow(torch.OutOfMemoryError);
    expect(native().cpuCache().keptBytes).toBe(0);
    expect(torch.tidy(() => torch.full([100_000], 2, F32).sum().item())).toBe(200_000);
  });

  function runChild(code: string, env: Record<string, string>): unknown {
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, ...env } });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  const CHILD_HEAD = `const torch = require(${JSON.stringify(path.join(DIST, 'index.js'))});
const N = require(${JSON.stringify(path.join(DIST, 'binding.js'))}).native();
const kept = () => N.cpuCache().keptBytes;
const F32 = { dtype: 'float32' };`;

  it('keeps at most TORCHKD_CPU_CACHE_MB, giving back the least recently freed blocks first', () => {
    const child = `${CHILD_HEAD}
const out = [N.cpuCache().limitBytes];
const [x, y, z] = [1, 2, 3].map((v) => torch.full([100_000], v, F32));
const [py, pz] = [y.dataPtr(), z.dataPtr()];
x.dispose(); out.push(kept());
y.dispose(); out.push(kept());
z.dispose(); out.push(kept()); // over 1 MiB: x's block goes back
const a = torch.full([100_000], 4, F32); const b = torch.full([100_000], 5, F32);
out.push(a.dataPtr() === pz, b.dataPtr() === py, kept());
const big = torch.zeros([300_000], F32); big.dispose(); out.push(kept()); // 1.2 MB: larger than the limit, not kept
out.push(a.sum().item(), b.sum().item());
process.stdout.write(JSON.stringify(out));`;
    expect(runChild(child, { TORCHKD_CPU_CACHE_MB: '1' })).toEqual([2 ** 20, CLASS_104, 2 * CLASS_104, 2 * CLASS_104, true, true, 0, 0, 400_000, 500_000]);
  }, 60_000);

  it('TORCHKD_CPU_CACHE_MB=0 keeps no block; a value that is not a whole number keeps the default 1 GiB', () => {
    const child = `${CHILD_HEAD}
const t = torch.full([300_000], 1, F32); const p = t.dataPtr() % 64; t.dispose();
process.stdout.write(JSON.stringify([N.cpuAllocator(), N.cpuCache().limitBytes, kept(), p]));`;
    expect(runChild(child, { TORCHKD_CPU_CACHE_MB: '0' })).toEqual(['torchkd', 0, 0, 0]);
    for (const v of ['abc', '-5', '1.5', '']) {
      expect(runChild(child, { TORCHKD_CPU_CACHE_MB: v }), v).toEqual(['torchkd', 2 ** 30, blockBytesOf(300_000), 0]);
    }
    expect(runChild(child, { TORCHKD_CPU_ALLOCATOR: '0' })).toEqual(['libtorch', 0, 0, 0]);
  }, 60_000);

  it('is shared safely by worker threads allocating and freeing large blocks at once', () => {
    const script = `const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const torch = require(${JSON.stringify(path.join(DIST, 'index.js'))});
const F32 = { dtype: 'float32' };
function churn(seed) {
  const sizes = [65_536, 70_000, 100_000, 99_000, 524_288, 1_000_000];
  const live = [];
  let bad = 0;
  for (let i = 0; i < 1500; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const n = sizes[seed % sizes.length];
    const fill = (seed >> 8) % 97;
    live.push({ t: torch.full([n], fill, F32), n, fill });
    if (live.length > 6) {
      const { t, n: m, fill: f } = live.splice(seed % live.length, 1)[0];
      if (t.min().item() !== f || t.max().item() !== f || t.numel() !== m) bad++;
      t.dispose();
    }
  }
  for (const { t } of live) t.dispose();
  return bad;
}
if (isMainThread) {
  const workers = [11, 22, 33].map((s) => new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: s });
    w.on('message', resolve);
    w.on('error', reject);
  }));
  const mine = churn(44);
  Promise.all(workers).then((theirs) => process.stdout.write(JSON.stringify([mine, ...theirs])));
} else {
  parentPort.postMessage(churn(workerData));
}`;
    const file = path.join(os.tmpdir(), `torchkd-alloc-threads-${process.pid}.js`);
    fs.writeFileSync(file, script);
    try {
      const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: process.env });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([0, 0, 0, 0]);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }, 120_000);

  it('TORCHKD_CPU_ALLOCATOR=0 leaves libtorch\'s own, with the same results', () => {
    const child = `const torch = require(${JSON.stringify(path.join(DIST, 'index.js'))});
const { native } = require(${JSON.stringify(path.join(DIST, 'binding.js'))});
const t = torch.arange(1000, { dtype: 'float32' });
process.stdout.write(JSON.stringify([native().cpuAllocator(), t.dataPtr() % 64, t.sum().item()]));`;
    for (const [env, name] of [['0', 'libtorch'], ['1', 'torchkd']] as const) {
      const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', env: { ...process.env, TORCHKD_CPU_ALLOCATOR: env } });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([name, 0, 499500]);
    }
  }, 60_000);
});
