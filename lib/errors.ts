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

/**
 * @internal The most specific class for an error from the addon: an OUT_OF_MEMORY TorchError, or libtorch's CPU
 * allocator running out of memory (a plain c10::Error, a RuntimeError in Python), becomes an OutOfMemoryError.
 */
export function specialise(e: Error): Error {
  const cpuOom = e instanceof TorchError && e.code === 'TORCH_ERROR' && CPU_OOM.test(e.message);
  if (e instanceof TorchError && (e.code === 'OUT_OF_MEMORY' || cpuOom) && !(e instanceof OutOfMemoryError)) {
    if (cpuOom) (e as { code: TorchErrorCode }).code = 'OUT_OF_MEMORY';
    Object.setPrototypeOf(e, OutOfMemoryError.prototype);
    e.name = 'OutOfMemoryError';
    e.message = readableOom(e.message);
  }
  return e;
}

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A byte count as PyTorch's CUDA OOM messages write it: `4.00 TiB`. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(2)} ${UNITS[u]}`;
}

// c10's CPU allocator reports "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate
// memory: you tried to allocate 4398046511104 bytes. Error code 12 (...)" (or "not enough memory: ..."), torchkd's
// (native/cpu_allocator.cc) "CPU allocator: not enough memory: you tried to allocate N bytes."; said plainly:
// "tried to allocate 4.00 TiB (4398046511104 bytes) of CPU memory, more than is available".
const CPU_OOM = /(?:DefaultCPUAllocator|CPU allocator): (?:not enough memory|can't allocate memory): you tried to allocate (\d+) bytes\..*$/;
function readableOom(message: string): string {
  const stripped = message.replace(/^\[enforce fail at [^\]]*\]\s*/, '');
  const m = CPU_OOM.exec(stripped);
  if (!m) return stripped;
  const n = Number(m[1]);
  return `tried to allocate ${formatBytes(n)} (${n} bytes) of CPU memory, more than is available`;
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
