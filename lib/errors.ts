/**
 * Errors raised by torchkd.
 *
 * libtorch failures arrive as {@link TorchError} (the libtorch message, never a C++ backtrace), with a `code` that
 * says what kind of failure it was. Wrong argument types are `TypeError`s and out-of-range values `RangeError`s,
 * as in Node's own APIs.
 */

/** What kind of libtorch failure a {@link TorchError} reports. */
export type TorchErrorCode =
  | 'TORCH_ERROR'
  | 'OUT_OF_MEMORY'
  | 'INDEX_ERROR'
  | 'VALUE_ERROR'
  | 'TYPE_ERROR'
  | 'NOT_IMPLEMENTED'
  | 'CUDA_UNAVAILABLE'
  | 'DISPOSED'
  | 'LOAD_FAILED';

/**
 * An error reported by libtorch (or by torchkd about libtorch), e.g. shapes that cannot be multiplied.
 *
 * @example
 * try { a.matmul(b) } catch (e) { if (e instanceof TorchError) console.log(e.code, e.message) }
 */
export class TorchError extends Error {
  /** The kind of failure; `'TORCH_ERROR'` when libtorch gave no more specific class. */
  readonly code: TorchErrorCode;

  constructor(message: string, code: TorchErrorCode = 'TORCH_ERROR') {
    super(message);
    this.name = 'TorchError';
    this.code = code;
  }
}

/**
 * @internal `out`, unless it is a Promise: scoped helpers (noGrad, autocast, tidy) cover synchronous functions only.
 * A refused promise is given a handler first, so its later rejection does not become an unhandled one (which ends
 * Node); then `message` is thrown as a TypeError.
 */
export function refuseAsync<T>(out: T, message: string): T {
  if (out instanceof Promise) {
    out.catch(() => undefined);
    throw new TypeError(message);
  }
  return out;
}
