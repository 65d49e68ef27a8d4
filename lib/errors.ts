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
 * A device allocation failed (`torch.OutOfMemoryError`, also `torch.cuda.OutOfMemoryError`): a {@link TorchError}
 * with code `'OUT_OF_MEMORY'`, so a recipe's `except torch.cuda.OutOfMemoryError:` ports as an `instanceof` test.
 *
 * @example
 * try { model.forward(bigBatch) } catch (e) { if (e instanceof torch.cuda.OutOfMemoryError) halveTheBatch(); else throw e }
 */
export class OutOfMemoryError extends TorchError {
  constructor(message: string) {
    super(message, 'OUT_OF_MEMORY');
    this.name = 'OutOfMemoryError';
  }
}

/** @internal The most specific class for an error from the addon (an OUT_OF_MEMORY TorchError becomes an OutOfMemoryError). */
export function specialise(e: Error): Error {
  if (e instanceof TorchError && e.code === 'OUT_OF_MEMORY' && !(e instanceof OutOfMemoryError)) {
    Object.setPrototypeOf(e, OutOfMemoryError.prototype);
    e.name = 'OutOfMemoryError';
  }
  return e;
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
