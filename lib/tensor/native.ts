/**
 * Internal: The loaded binding, twice: `N` throws a failed call's error itself; `R` is the raw one the generated
 * op functions call, checking the result with `ok` (or `wrap`), which saves a closure per call on the hot path.
 *
 * The modules on the per-op path (this one, base.ts, args.ts) re-export nothing: TypeScript compiles a re-export to a
 * getter defined over the property it first set to `undefined`, which turns the module object into a dictionary, so
 * every `R.op_…` or `A.…` load in the generated code became a hash lookup the optimising compiler cannot fold
 * (~80 ns of a ~1.1 µs small op). Import `FAILED` and `throwPending` from '../binding', `N`, `R` and `ok` from here.
 */
import { FAILED, native, rawNative, throwPending } from '../binding';
import type { NativeOps } from '../generated/native';

export const N = native();
export const R = rawNative() as unknown as NativeOps;

/** A native call's result, or its error thrown (a failed call returns the FAILED sentinel). */
export function ok<T>(r: T): T {
  if ((r as unknown) === FAILED) throwPending();
  return r;
}
