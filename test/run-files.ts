/**
 * What a finished `torchkd train` run wrote, compared with another run's: the checkpoint (weights, optimizer state,
 * epoch, best score), best.pt, teacher.pt, metrics.jsonl row for row (timings aside), no temporary files left.
 * Shared by the crash suite (runs killed in child processes) and the in-process resume suite.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';

import * as torch from '../lib/index';
import type { Tensor } from '../lib/index';

export type State = Record<string, Tensor>;
export interface Ck {
  model: State;
  optimizer: { state: Record<string, Record<string, Tensor | number>>; param_groups: Record<string, unknown>[] };
  best_top1: number;
  best_epoch: number;
  epoch: number;
}

export function expectSameTensors(a: State, b: State, what: string): void {
  expect(Object.keys(b), what).toEqual(Object.keys(a));
  for (const k of Object.keys(a)) expect(a[k].equal(b[k]), `${what}: ${k}`).toBe(true);
}

export function rows(out: string): Record<string, unknown>[] {
  return fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => ({ ...JSON.parse(l), seconds: 0 }));
}

/** Everything a finished run wrote that must equal the uninterrupted run's. */
export function expectSameRun(ref: string, out: string): void {
  const a = torch.load<Ck>(path.join(ref, 'checkpoint.pt'));
  const b = torch.load<Ck>(path.join(out, 'checkpoint.pt'));
  expectSameTensors(a.model, b.model, 'checkpoint model');
  expect(b.epoch).toBe(a.epoch);
  expect([b.best_epoch, b.best_top1]).toEqual([a.best_epoch, a.best_top1]);
  expect(Object.keys(b.optimizer.state)).toEqual(Object.keys(a.optimizer.state));
  for (const k of Object.keys(a.optimizer.state)) {
    const sa = a.optimizer.state[k];
    const sb = b.optimizer.state[k];
    for (const s of Object.keys(sa)) {
      const va = sa[s];
      const vb = sb[s];
      if (typeof va === 'number') expect(vb).toBe(va);
      else expect((va as Tensor).equal(vb as Tensor), `optimizer ${k}.${s}`).toBe(true);
    }
  }
  expect(b.optimizer.param_groups).toEqual(a.optimizer.param_groups);
  for (const f of ['best.pt', 'teacher.pt'].filter((f) => fs.existsSync(path.join(ref, f)))) {
    const x = torch.load<{ state_dict: State; epoch: number; top1: number }>(path.join(ref, f));
    const y = torch.load<{ state_dict: State; epoch: number; top1: number }>(path.join(out, f));
    expect([y.epoch, y.top1], f).toEqual([x.epoch, x.top1]);
    expectSameTensors(x.state_dict, y.state_dict, f);
  }
  expect(rows(out)).toEqual(rows(ref));
  if (fs.existsSync(path.join(ref, 'teacher'))) expect(rows(path.join(out, 'teacher'))).toEqual(rows(path.join(ref, 'teacher')));
  expectBestIsBest(out);
  const leftovers = [out, path.join(out, 'teacher')].filter((d) => fs.existsSync(d)).flatMap((d) => fs.readdirSync(d).filter((f) => f.includes('.tmp-')));
  expect(leftovers).toEqual([]);
}

/** best.pt and the checkpoint name the epoch with the highest validation top-1 in metrics.jsonl (the first of ties). */
export function expectBestIsBest(out: string): void {
  const val = rows(out).filter((r) => r.split === 'val') as { epoch: number; top1: number }[];
  const best = val.reduce((a, b) => (b.top1 > a.top1 ? b : a));
  const b = torch.load<{ epoch: number; top1: number }>(path.join(out, 'best.pt'));
  expect([b.epoch, b.top1], 'best.pt').toEqual([best.epoch, best.top1]);
  const ck = torch.load<Ck>(path.join(out, 'checkpoint.pt'));
  expect([ck.best_epoch, ck.best_top1], 'checkpoint best').toEqual([best.epoch, best.top1]);
}
