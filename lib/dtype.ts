/**
 * Dtypes and devices: PyTorch's names on the JS side, libtorch's codes on the native side.
 */
import { TorchError } from './errors';

/** Element types, named as PyTorch names them. */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/**
 * PyTorch's dtype objects under their names and aliases (`torch.float32`, `torch.float`, `torch.long`, ...), so that
 * `{dtype: torch.float64}` ports as written; each is the DType string it names.
 */
export const float32 = 'float32' as const;
export const float64 = 'float64' as const;
export const float16 = 'float16' as const;
export const bfloat16 = 'bfloat16' as const;
export const int64 = 'int64' as const;
export const int32 = 'int32' as const;
export const int16 = 'int16' as const;
export const int8 = 'int8' as const;
export const uint8 = 'uint8' as const;
export const bool = 'bool' as const;
/** Aliases, as in PyTorch: float = float32, double = float64, half = float16, long = int64, int = int32, short = int16. */
export const float = float32;
export const double = float64;
export const half = float16;
export const long = int64;
export const int = int32;
export const short = int16;

/**
 * How a tensor's elements are laid out in memory (PyTorch's `torch.memory_format`): `contiguousFormat` is row-major
 * (NCHW for images), `channelsLast` is NHWC for 4-d tensors (`channelsLast3d`: NDHWC for 5-d), and `preserveFormat`
 * keeps the layout a tensor has. Given as `{memoryFormat}` to `contiguous`, `isContiguous`, `to` and `Module.to`.
 */
export type MemoryFormat = 'contiguousFormat' | 'channelsLast' | 'channelsLast3d' | 'preserveFormat';
/** PyTorch's memory-format names, camelCased: `torch.channels_last` is `torch.channelsLast`. */
export const contiguousFormat = 'contiguousFormat' as const;
export const channelsLast = 'channelsLast' as const;
export const channelsLast3d = 'channelsLast3d' as const;
export const preserveFormat = 'preserveFormat' as const;
const MEMORY_FORMATS: Record<string, number> = { contiguousFormat: 0, channelsLast: 1, channelsLast3d: 2, preserveFormat: 3 };

/** @internal The native code of a memory format (the order of native/addon.cc's memoryFormatArg), or a TypeError/RangeError. */
export function memoryFormatCode(v: unknown, fn: string, name = 'memoryFormat'): number {
  const code = typeof v === 'string' ? MEMORY_FORMATS[v] : undefined;
  if (code !== undefined) return code;
  const choices = "'contiguousFormat', 'channelsLast', 'channelsLast3d' or 'preserveFormat' (torch.channelsLast, ...)";
  if (typeof v !== 'string') throw new TypeError(`${fn}: expected ${name} to be one of ${choices} but received ${describe(v)}`);
  throw new RangeError(`${fn}: expected ${name} to be one of ${choices} but received ${describe(v)}`);
}

/** `'cpu'`, `'cuda'` (the current CUDA device) or `'cuda:N'`. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** @internal c10::ScalarType codes. */
export const DTYPE_CODE: Record<DType, number> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};

const CODE_DTYPE: Record<number, DType> = Object.fromEntries(
  Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as DType]),
) as Record<number, DType>;

const ALIASES: Record<string, DType> = {
  float: 'float32',
  double: 'float64',
  half: 'float16',
  long: 'int64',
  int: 'int32',
  short: 'int16',
  byte: 'uint8',
};

/** @internal Validate a dtype name (PyTorch's aliases such as 'float' and 'long' are accepted). */
export function dtypeCode(dtype: unknown, what = 'dtype'): number {
  if (typeof dtype !== 'string') throw new TypeError(`Expected a dtype name for ${what} but received ${describe(dtype)}`);
  const name = (ALIASES[dtype] ?? dtype) as DType;
  const code = DTYPE_CODE[name];
  if (code === undefined) {
    throw new RangeError(`Unknown dtype '${dtype}' for ${what}; expected one of ${Object.keys(DTYPE_CODE).join(', ')}`);
  }
  return code;
}

/** @internal */
export function dtypeName(code: number): DType {
  const name = CODE_DTYPE[code];
  if (!name) throw new TorchError(`tensor has a dtype torchkd does not expose (code ${code})`, 'TYPE_ERROR');
  return name;
}

/** True for float16/bfloat16/float32/float64. */
export function isFloatingPoint(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

let cudaCheck: (() => boolean) | null = null;
let cudaCurrent: (() => number) | null = null;

/** @internal Lets tensor.ts provide torch.cuda.isAvailable and currentDevice without an import cycle. */
export function setCudaCheck(fn: () => boolean, current?: () => number): void {
  cudaCheck = fn;
  cudaCurrent = current ?? null;
}

/** @internal Device name -> native code (-1 CPU, N for cuda:N; plain 'cuda' is the current device, as in PyTorch). */
export function deviceCode(device: unknown): number {
  if (device === 'cpu') return -1;
  if (typeof device !== 'string') throw new TypeError(`Expected a device ('cpu', 'cuda' or 'cuda:N') but received ${describe(device)}`);
  const m = /^cuda(?::(\d+))?$/.exec(device);
  if (!m) throw new RangeError(`Unknown device '${device}'; expected 'cpu', 'cuda' or 'cuda:N'`);
  if (cudaCheck && !cudaCheck()) {
    throw new TorchError(
      `device '${device}' was requested but no CUDA device is available (torch.cuda.isAvailable() is false); ` +
        `use 'cpu', or run on a machine with an NVIDIA GPU and a CUDA build of libtorch`,
      'CUDA_UNAVAILABLE',
    );
  }
  if (m[1] !== undefined) return Number(m[1]);
  return cudaCurrent ? cudaCurrent() : 0;
}

/** @internal */
export function deviceName(code: number): Device {
  return code < 0 ? 'cpu' : `cuda:${code}`;
}

/** @internal A short description of a value for error messages ("a string", "null", "an array"...). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : `the number ${v}`;
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'Object'})`;
  // A function's source text is no help; a method passed uncalled (PyTorch's `outputs.data` is a method here) is.
  if (typeof v === 'function') {
    const name = (v as { name?: string }).name;
    return name === 'data' ? "the method Tensor.data (call it for a typed array; PyTorch's .data is .detach() here)" : `the function ${name || '(anonymous)'}`;
  }
  return `${typeof v === 'string' ? 'the string' : `a ${typeof v}`} ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`;
}
