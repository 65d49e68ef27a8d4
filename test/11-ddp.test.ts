/**
 * nn.parallel.DistributedDataParallel: two Node ranks, each on half of every batch, end 20 SGD-momentum steps with
 * the weights one process gets on the whole batch (to 1e-6, as PyTorch DDP does), with the gradients in several
 * buckets; gradient accumulation under noSync; parameters unused in an iteration with findUnusedParameters (and a
 * clear error without it). With the Python oracle, a Node rank and a Python DistributedDataParallel rank train one
 * model in one job and end with identical weights.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';

import { expectClean, runJob, workerCommand } from './dist-helpers';
import { itWhen, pythonWithTorch } from './helpers';

const PY = pythonWithTorch();
const NO_PY = 'needs the Python oracle (the project venv with torch): none found';

interface Trained {
  weights: number[][];
  buffersAtStart?: number[][];
  losses: number[];
  buckets?: number[][];
  gradNull?: boolean[];
}
interface DdpResult {
  ddp: Trained;
  reference?: Trained;
  error?: { name: string; code: string; message: string } | null;
}

function maxDiff(a: number[][], b: number[][]): number {
  expect(a.map((w) => w.length)).toEqual(b.map((w) => w.length));
  let m = 0;
  a.forEach((w, i) => w.forEach((v, k) => (m = Math.max(m, Math.abs(v - b[i][k])))));
  return m;
}

async function job(args: object, langs: ('node' | 'python')[] = ['node', 'node']): Promise<DdpResult[]> {
  return expectClean(await runJob(langs.map((l) => workerCommand(l, '11-dist-worker', 'ddp', args)))) as unknown as DdpResult[];
}

describe('DistributedDataParallel between two Node ranks', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`2 ranks × B/2 end 20 SGD-momentum steps with one process's weights on B (${dtype}, several buckets)`, async () => {
      const res = await job({ mode: 'plain', steps: 20, dtype, bucketCapMb: 0.0002, withReference: true });
      // Both ranks hold the same weights (the averaged gradients are the same bits on both).
      expect(res[0].ddp.weights).toEqual(res[1].ddp.weights);
      expect(maxDiff(res[0].ddp.weights, res[0].reference!.weights)).toBeLessThanOrEqual(dtype === 'float32' ? 1e-6 : 1e-12);
      // Training did something: the loss fell.
      const l = res[0].reference!.losses;
      expect(l[l.length - 1]).toBeLessThan(l[0]);
      // After the first iteration the buckets were rebuilt in gradient order: several, covering every parameter once.
      const buckets = res[0].ddp.buckets!;
      expect(buckets.length).toBeGreaterThanOrEqual(3);
      expect(buckets.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(res[1].ddp.buckets).toEqual(buckets);
    }, 120_000);
  }

  it('staticGraph: the first iteration reduces all at once after backward, then trains as one process', async () => {
    const res = await job({ mode: 'plain', steps: 10, staticGraph: true, bucketCapMb: 0.0002, withReference: true });
    expect(res[0].ddp.weights).toEqual(res[1].ddp.weights);
    expect(maxDiff(res[0].ddp.weights, res[0].reference!.weights)).toBeLessThanOrEqual(1e-6);
    expect(res[0].ddp.buckets!.length).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it("buffers: rank 0's BatchNorm statistics reach every rank at construction; weights stay identical", async () => {
    const res = await job({ mode: 'bn', steps: 10 });
    expect(res[0].ddp.buffersAtStart).toEqual(res[1].ddp.buffersAtStart);
    expect(res[0].ddp.buffersAtStart![0].every((v) => v === 1)).toBe(true);
    expect(res[0].ddp.weights).toEqual(res[1].ddp.weights);
  }, 120_000);

  it('noSync: gradients accumulated locally, then averaged with the next synchronised backward', async () => {
    const res = await job({ mode: 'noSync', steps: 10, bucketCapMb: 0.0002, withReference: true });
    expect(res[0].ddp.weights).toEqual(res[1].ddp.weights);
    expect(maxDiff(res[0].ddp.weights, res[0].reference!.weights)).toBeLessThanOrEqual(1e-6);
  }, 120_000);

  it('findUnusedParameters: a head unused in alternate iterations trains as in one process; without it, a clear error', async () => {
    const res = await job({ mode: 'unused', steps: 20, withReference: true, expectError: { mode: 'unused', steps: 2, findUnusedParameters: false } });
    expect(res[0].ddp.weights).toEqual(res[1].ddp.weights);
    expect(maxDiff(res[0].ddp.weights, res[0].reference!.weights)).toBeLessThanOrEqual(1e-6);
    // The last step used head b: head a's parameters got no gradient, as in one process.
    expect(res[0].ddp.gradNull).toEqual(res[0].reference!.gradNull);
    expect(res[0].ddp.gradNull).toEqual([false, false, true, true, false, false]);
    for (const r of res) {
      expect(r.error).toMatchObject({ name: 'TorchError' });
      expect(r.error!.message).toMatch(/Expected to have finished reduction in the prior iteration/);
      expect(r.error!.message).toMatch(/find_unused_parameters|findUnusedParameters/);
      expect(r.error!.message).not.toMatch(/Exception raised from|frame #\d/);
    }
  }, 120_000);
});

describe('DistributedDataParallel with a Python rank', () => {
  for (const order of [['node', 'python'], ['python', 'node']] as const) {
    itWhen(!!PY, NO_PY, `a ${order[0]} rank 0 and a ${order[1]} rank 1 (Python's DistributedDataParallel) end with identical weights`, async () => {
      const res = await job({ mode: 'plain', steps: 20, bucketCapMb: 0.0002 }, [...order]);
      expect(res[0].ddp.weights).toEqual(res[1].ddp.weights);
      expect(res[0].ddp.losses).toHaveLength(20);
      expect(res[1].ddp.losses).toHaveLength(20);
    }, 120_000);
  }

  for (const mode of ['noSync', 'unused'] as const) {
    itWhen(!!PY, NO_PY, `${mode === 'noSync' ? 'noSync accumulation' : 'findUnusedParameters with alternating heads'}: a Python rank 0 and a Node rank 1 end with identical weights`, async () => {
      const res = await job({ mode, steps: 10 }, ['python', 'node']);
      expect(res[0].ddp.weights).toEqual(res[1].ddp.weights);
    }, 120_000);
  }

  for (const mode of ['bn', 'static'] as const) {
    itWhen(!!PY, NO_PY, `${mode === 'bn' ? 'with BatchNorm buffers' : 'with staticGraph'}, a Node rank 0 and a Python rank 1 end with identical weights`, async () => {
      const args = mode === 'bn' ? { mode: 'bn', steps: 10 } : { mode: 'plain', steps: 10, staticGraph: true, bucketCapMb: 0.0002 };
      const res = await job(args, ['node', 'python']);
      expect(res[0].ddp.weights).toEqual(res[1].ddp.weights);
      if (mode === 'bn') expect(res[0].ddp.buffersAtStart).toEqual(res[1].ddp.buffersAtStart);
    }, 120_000);
  }

  itWhen(!!PY, NO_PY, 'two Python ranks (the reference) end with the weights two Node ranks end with', async () => {
    const py = await job({ mode: 'plain', steps: 20, bucketCapMb: 0.0002 }, ['python', 'python']);
    const node = await job({ mode: 'plain', steps: 20, bucketCapMb: 0.0002 });
    expect(maxDiff(node[0].ddp.weights, py[0].ddp.weights)).toBeLessThanOrEqual(1e-6);
  }, 120_000);
});

describe('what the worker exercises', () => {
  it('the Node worker trains with nn.parallel.DistributedDataParallel (and noSync), compared above with Python', () => {
    const DDP = torch.nn.parallel.DistributedDataParallel;
    expect(DDP.prototype.noSync).toBeTypeOf('function');
    const src = fs.readFileSync(path.join(__dirname, '11-dist-worker.js'), 'utf8');
    expect(src).toMatch(/new nn\.parallel\.DistributedDataParallel\(/);
    expect(src).toMatch(/ddp\.noSync\(/);
  });
});
