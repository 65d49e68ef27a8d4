/**
 * Shared test helpers: load fixtures written by scripts/fixtures/gen_*.py and compare tensors with them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { beforeEach, expect, it } from 'vitest';

import * as torch from '../lib/index';
import type { DType, Tensor } from '../lib/index';

/** A tensor as the generators write it. */
export interface TensorJson {
  dtype: DType;
  shape: number[];
  data: (number | boolean | string)[];
}

const ROOT = path.resolve(__dirname, '..');

/** One case of test/fixtures/kd.json (scripts/fixtures/gen_kd.py). */
export interface KdCase {
  name: string;
  T: number;
  dim: number;
  s: TensorJson;
  t: TensorJson;
  loss: TensorJson;
  grad: TensorJson;
  s_base?: TensorJson;
  t_base?: TensorJson;
}

/** Reads test/fixtures/<name>.json. */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', `${name}.json`), 'utf8')) as T;
}

function decode(v: number | boolean | string): number {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v as number;
}

/** The fixture's values as doubles (flat). */
export function values(j: TensorJson): number[] {
  return j.data.map(decode);
}

/** A torchkd tensor with the fixture's dtype, shape and values. */
export function fromJson(j: TensorJson, options: { requiresGrad?: boolean } = {}): Tensor {
  const t = torch.tensor(Float64Array.from(values(j)), { dtype: 'float64', shape: j.shape }).to(j.dtype);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

function flat(t: Tensor): number[] {
  return Array.from(t.data() as ArrayLike<number | bigint>, (v) => Number(v));
}

/**
 * Asserts `actual` equals the fixture: same shape and dtype, and values equal to the bit (default) or within
 * `rtol`/`atol` (|a - e| <= atol + rtol·|e|). NaNs must match NaNs.
 */
export function expectTensor(actual: Tensor, expected: TensorJson, tol: { rtol?: number; atol?: number } = {}): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.dtype).toBe(expected.dtype);
  const a = flat(actual);
  const e = values(expected);
  const rtol = tol.rtol ?? 0;
  const atol = tol.atol ?? 0;
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < e.length; i++) {
    if (Number.isNaN(e[i])) {
      if (!Number.isNaN(a[i])) throw new Error(`element ${i}: expected NaN, got ${a[i]}`);
      continue;
    }
    if (a[i] === e[i]) continue;
    // A NaN where a number is expected fails at once (its |diff| is NaN, which no comparison below would catch).
    if (Number.isNaN(a[i])) throw new Error(`element ${i}: got NaN, expected ${e[i]}`);
    const err = Math.abs(a[i] - e[i]);
    if (!(err <= atol + rtol * Math.abs(e[i])) && err > worstErr) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    throw new Error(`element ${worst}: got ${a[worst]}, expected ${e[worst]} (|diff| ${worstErr}, rtol ${rtol}, atol ${atol})`);
  }
}

/**
 * The project venv's Python, when it has torch (for live parity checks); null otherwise, and when
 * TORCHKD_LIVE_PARITY=0 (mutation testing: the committed fixtures judge the mutants without a Python start-up each).
 */
export function pythonWithTorch(): string | null {
  if (process.env.TORCHKD_LIVE_PARITY === '0') return null;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const info = require('../lib/libtorch.js').discover();
  const py = process.env.TORCHKD_PYTHON ?? info.python;
  if (!py) return null;
  const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0 ? py : null;
}

/** Runs a fixture generator live and returns its payload (as it would be written). */
export function liveFixture<T = Record<string, unknown>>(generator: string): T | null {
  const py = pythonWithTorch();
  if (!py) return null;
  const r = spawnSync(py, [path.join(ROOT, 'scripts', 'fixtures', generator), '--stdout'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${generator} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * Set-up shared by the tests of a describe block, run before its first test rather than while the file is collected:
 * if it throws, each test of the block fails with its error. (An error while collecting reports no test at all, which
 * a mutation-testing run reads as a mutant that no test detected.)
 */
export function setupOnce(fn: () => unknown): void {
  let done = false;
  beforeEach(() => {
    if (done) return;
    fn();
    done = true;
  });
}

/** The error `fn` throws (fails the test if it returns), for assertions on its class, code and message together. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to throw, but it returned');
}

/** `Class: message` of the error `fn` throws (for asserting an error's kind and text together). */
export function thrownMessage(fn: () => unknown): string {
  const e = thrown(fn);
  return `${e.constructor.name}: ${e.message}`;
}

/** An error class, as {@link expectError} takes it. */
export type ErrorClass = abstract new (...args: never[]) => Error;
/** A table row of argument checks: [what is wrong, the call, the error class, the exact message]. */
export type Rejection = [string, () => unknown, ErrorClass, string];

/** IDX bytes: magic 00 00 type ndim, big-endian sizes, then the payload. */
export function idxBytes(type: number, shape: number[], payload: ArrayLike<number> = []): Buffer {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = type;
  header[3] = shape.length;
  shape.forEach((d, k) => header.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([header, Buffer.from(Uint8Array.from(payload))]);
}

/** Asserts that `fn` throws an error of exactly class `cls` (not a subclass) with exactly `message`. */
export function expectError(fn: () => unknown, cls: abstract new (...args: never[]) => Error, message: string): void {
  const e = thrown(fn);
  expect({ class: e.constructor.name, message: e.message }).toEqual({ class: cls.name, message });
  expect(e.constructor).toBe(cls);
}

/**
 * The live tensor count with no collectible garbage left (vitest runs with --expose-gc): the "before" of a leak check,
 * so that earlier tests' unreachable tensors, freed by a collection in the middle of the check, cannot make the count
 * fall. Garbage made inside the checked code is still counted unless a collection happens to run there.
 */
export function liveTensorsSettled(): number {
  forceGc();
  return torch.memory().liveTensors;
}

/**
 * Four full garbage collections. `npm test` runs its forks with --expose-gc; a runner that does not (StrykerJS runs
 * vitest in worker threads) gets the collector from V8's flag, so the lifetime checks measure the same thing anywhere.
 */
export function forceGc(): void {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 4; i++) gc();
}

/** Whether a CUDA device is usable here. */
export const HAS_CUDA = torch.cuda.isAvailable();
/** The reasons the reporter shows for tests that need (or must not have) a device. */
export const NEEDS_CUDA = 'needs a CUDA device: none is usable here';
export const NEEDS_NO_CUDA = 'checks the no-device path: this machine has a CUDA device';

/**
 * A test registered on every machine and skipped, with the reason, where its condition does not hold (vitest's
 * verbose reporter prints the reason): `condition` false → skipped.
 */
export function itWhen(condition: boolean, reason: string, name: string, fn: () => unknown, timeout?: number): void {
  it(name, (ctx) => {
    ctx.skip(!condition, reason);
    return fn();
  }, timeout);
}

/** Inside a describe: every test of it skipped with the reason where no CUDA device is usable. */
export function requireCuda(): void {
  beforeEach((ctx) => ctx.skip(!HAS_CUDA, NEEDS_CUDA));
}
