/**
 * Internal: The loaded binding, twice: `N` throws a failed call's error itself; `R` is the raw one the generated
 * op functions call, checking the result with `ok` (or `wrap`), which saves a closure per call on the hot path.
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

export { FAILED, throwPending };
