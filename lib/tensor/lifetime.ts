/**
 * Tensor lifetime: garbage-collection groups, `tidy` scopes, `keep`, and `torch.memory()`.
 *
 * The native side attaches GC finalizers that run inside V8's collector (so memory is freed even in a long
 * synchronous loop). Attaching one costs about as much as a small op, so small tensors (under 16 KiB, flagged by
 * the native side) are tracked in groups: each belongs to an Arena of up to 32 tensors created one after another
 * and holds it strongly; once full, the Arena alone gets a finalizer, which releases all its handles when every
 * member is unreachable. Large tensors get their own. Handles carry a generation, so releasing an already-disposed
 * handle is a no-op and dispose() needs no bookkeeping. The cost: a small tensor that stays reachable keeps up to
 * 31 small neighbours (< 496 KiB) alive with it; dispose() and tidy() free at once regardless.
 *
 * Tensors made inside a `tidy` scope are freed by the scope, so their bytes are not reported to V8 as external memory
 * while it is open (a training step's activations would otherwise push V8 into a full collection every step); a
 * tensor that leaves the outermost scope, returned or kept, is reported then.
 *
 * Loading torchkd keeps V8's young generation at its starting size (see tuneYoungGeneration).
 */
import * as v8 from 'v8';
import { describe } from '../dtype';
import { refuseAsync } from '../errors';
import type { TensorBase, ValuesIndices } from './base';
import { N } from './native';

const ARENA_SIZE = 32;

/**
 * Tensors that no tidy scope frees are freed by V8's young-generation collections (scavenges), all those that died
 * since the last one at once. V8 doubles the young generation from 1 MiB per semi-space up to 16 MiB when a program
 * allocates fast, which a loop of small ops does: a scavenge then comes every ~70,000 ops of an 8×8 `add`, whose
 * ~45 MB of results (tensor, storage, data) are freed in one burst, from memory long out of the caches, and the next
 * ops allocate from the fragments. Held at 1 MiB, a scavenge frees ~5,000 tensors whose memory is still warm (`add`
 * 13% and the op chain 26% faster, docs/benchmarks.md). `--semi-space-growth-factor=1` does that on a running V8 (Node 20;
 * newer V8 raises factors below 2 to 2, where `node --max-semi-space-size=1` does the same). Skipped when the user
 * sized the young generation (`--max-semi-space-size`, `--min-semi-space-size`, `--semi-space-growth-factor` on the
 * command line or in NODE_OPTIONS) or set TORCHKD_GC_TUNING=0.
 */
function tuneYoungGeneration(): void {
  if (process.env.TORCHKD_GC_TUNING === '0') return;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((a) => /^--(max|min)[-_]semi[-_]space[-_]size|^--semi[-_]space[-_]growth[-_]factor/.test(a))) return;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
tuneYoungGeneration();

/** @internal A GC group of small tensors. */
export class Arena {
  ids: number[] = [];
}

let arena = new Arena();
const scopes: TensorBase[][] = [];
let valuesIndicesClass: (new (...a: never[]) => ValuesIndices) | null = null;
let tensorBaseClass: (new (...a: never[]) => TensorBase) | null = null;

/** @internal Set by base.ts (which imports this module) to break the import cycle. */
export function setLifetimeClasses(tensor: new (...a: never[]) => TensorBase, vi: new (...a: never[]) => ValuesIndices): void {
  tensorBaseClass = tensor;
  valuesIndicesClass = vi;
}

/**
 * @internal Registers a freshly wrapped tensor for collection: a large one (negative native code) alone, a small one
 * in the current arena (the tensor keeps its arena alive). Returns the arena, or null for a large tensor.
 */
export function track(t: TensorBase, code: number): Arena | null {
  let result: Arena | null = null;
  if (code < 0) {
    N.track(t, -code - 1);
  } else {
    const a = arena;
    if (a.ids.push(code) === ARENA_SIZE) {
      N.track(a, a.ids);
      a.ids = [];
      arena = new Arena();
    }
    result = a;
  }
  if (scopes.length !== 0) scopes[scopes.length - 1].push(t);
  return result;
}

/** Anything `tidy` can hand back: tensors, and arrays/objects holding them. */
export type TidyResult = unknown;

function collectKept(value: unknown, keep: Set<TensorBase>, depth = 0): void {
  if (depth > 32 || value === null || typeof value !== 'object') return;
  if (tensorBaseClass && value instanceof tensorBaseClass) {
    keep.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collectKept(v, keep, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype || (valuesIndicesClass && value instanceof valuesIndicesClass))
    for (const v of Object.values(value)) collectKept(v, keep, depth + 1);
}

/**
 * Runs `fn` and disposes every tensor created inside it except those it returns (directly or inside arrays and
 * plain objects). Synchronous functions only. Nested tidies work; returned tensors move to the enclosing scope.
 *
 * @example
 * const loss = torch.tidy(() => model.forward(x).sub(y).square().mean());
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError(`tidy() expects a function, got ${describe(fn)}`);
  const scope: TensorBase[] = [];
  scopes.push(scope);
  N.enterScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    N.exitScope();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  N.exitScope();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    refuseAsync(result, 'tidy() only supports synchronous functions; the tensors it created were disposed');
  }
  const keep = new Set<TensorBase>();
  collectKept(result, keep);
  const outer = scopes.length ? scopes[scopes.length - 1] : null;
  const escaped: number[] = [];
  for (const t of scope) {
    if (!keep.has(t)) t.dispose();
    else if (outer) outer.push(t);
    else if (!t.isDisposed) escaped.push(t.h);
  }
  if (escaped.length) N.account(escaped);
  return result;
}

/** Keeps a tensor out of the enclosing `tidy` scope (it will not be disposed at the scope's end). */
export function keep<T extends TensorBase>(t: T): T {
  let scoped = false;
  for (const scope of scopes) {
    const i = scope.lastIndexOf(t);
    if (i >= 0) {
      scope.splice(i, 1);
      scoped = true;
    }
  }
  if (scoped && !t.isDisposed) N.account(t.h);
  return t;
}

/** Native memory held by live tensors: their count and the bytes of distinct storages, per device. */
export function memory(): { liveTensors: number; bytes: Record<string, number> } {
  const m = N.memory();
  return { liveTensors: m.liveTensors, bytes: m.bytes };
}
