/**
 * data.DistributedSampler: every rank's indices equal PyTorch's DistributedSampler for the same dataset length,
 * replica count, seed, epoch, shuffling and dropLast (test/fixtures/distributed_sampler.json, made by
 * scripts/fixtures/gen_distributed_sampler.py), and its arguments are checked as Python checks them.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { DataLoader, DistributedSampler, TensorDataset } from '../lib/data/index';
import { fixture } from './helpers';

interface RankCase {
  len: number;
  indices?: number[];
  head?: number[];
  digest?: string;
}
interface Case {
  n: number;
  numReplicas: number;
  shuffle: boolean;
  seed: number;
  epoch: number;
  dropLast: boolean;
  totalSize: number;
  ranks: RankCase[];
}

const { cases } = fixture<{ cases: Case[] }>('distributed_sampler');

describe("DistributedSampler gives PyTorch's indices", () => {
  it(`for ${cases.length} cases of (n, replicas, shuffle, seed, epoch, dropLast)`, () => {
    expect(cases.length).toBeGreaterThan(250);
    for (const c of cases) {
      c.ranks.forEach((want, rank) => {
        const s = new DistributedSampler(c.n, { numReplicas: c.numReplicas, rank, shuffle: c.shuffle, seed: c.seed, dropLast: c.dropLast });
        s.setEpoch(c.epoch);
        const label = JSON.stringify({ ...c, ranks: undefined, rank });
        expect(s.length, label).toBe(want.len);
        expect(s.totalSize, label).toBe(c.totalSize);
        const got = [...s];
        if (want.indices) {
          expect(got, label).toEqual(want.indices);
        } else {
          expect(got.slice(0, 16), label).toEqual(want.head);
          expect(createHash('sha256').update(got.join(',')).digest('hex'), label).toBe(want.digest);
        }
      });
    }
  });

  it('the ranks of one epoch cover the dataset (padded with repeats, or cut with dropLast) and differ by epoch', () => {
    const share = (rank: number, epoch: number, dropLast = false): number[] => {
      const s = new DistributedSampler(10, { numReplicas: 3, rank, seed: 7, dropLast });
      s.setEpoch(epoch);
      return [...s];
    };
    const all = [0, 1, 2].flatMap((r) => share(r, 0));
    expect(all).toHaveLength(12);
    expect(new Set(all).size).toBe(10);
    const cut = [0, 1, 2].flatMap((r) => share(r, 0, true));
    expect(cut).toHaveLength(9);
    expect(new Set(cut).size).toBe(9);
    expect(share(0, 1)).not.toEqual(share(0, 0));
    expect(share(0, 1)).toEqual(share(0, 1));
  });

  it('positional arguments are accepted as in Python, and the sampler drives a DataLoader', () => {
    const s = new DistributedSampler(8, 2, 1, false);
    expect([...s]).toEqual([1, 3, 5, 7]);
    const ds = new TensorDataset(torch.arange(8).to('float32'));
    const loader = new DataLoader(ds, { batchSize: 2, sampler: s });
    const seen: number[] = [];
    for (const [x] of loader) seen.push(...Array.from(x.data() as Float32Array));
    expect(seen).toEqual([1, 3, 5, 7]);
  });

  it('the order draws nothing from the default generator', () => {
    torch.manualSeed(3);
    const before = torch.rand([4]).toArray();
    torch.manualSeed(3);
    const s = new DistributedSampler(100, { numReplicas: 2, rank: 0, seed: 1 });
    void [...s];
    expect(torch.rand([4]).toArray()).toEqual(before);
  });

  it('bad arguments are TypeError/RangeError naming the argument', () => {
    expect(() => new DistributedSampler(10, { numReplicas: 0, rank: 0 })).toThrow(RangeError);
    expect(() => new DistributedSampler(10, { numReplicas: 2, rank: 2 })).toThrow(/Invalid rank 2, rank should be in the interval \[0, 1\]/);
    expect(() => new DistributedSampler(10, { numReplicas: 2, rank: -1 })).toThrow(RangeError);
    expect(() => new DistributedSampler(10, { numReplicas: 2, rank: 0, shuffle: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => new DistributedSampler(10, { numReplicas: 2, rank: 0, seed: 0.5 })).toThrow(TypeError);
    expect(() => new DistributedSampler(-1, { numReplicas: 2, rank: 0 })).toThrow(TypeError);
    expect(() => new DistributedSampler(10, { numReplicas: 2, rank: 0, bogus: 1 } as never)).toThrow(TypeError);
    const s = new DistributedSampler(10, { numReplicas: 2, rank: 0 });
    expect(() => s.setEpoch(1.5)).toThrow(TypeError);
  });

  it('without numReplicas/rank and no process group it fails as Python does', () => {
    expect(() => new DistributedSampler(10)).toThrow(/Default process group has not been initialized/);
  });
});
