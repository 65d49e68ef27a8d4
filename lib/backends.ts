/**
 * libtorch's global backend switches, as PyTorch exposes them: `torch.backends.cudnn.*`,
 * `torch.backends.cuda.matmul.allowTf32`, `torch.setFloat32MatmulPrecision`, `torch.useDeterministicAlgorithms`.
 * They are libtorch's own process-wide settings (the same ones Python's attributes read and write).
 */
import { describe } from './dtype';
import { N } from './tensor';

function flag(name: string, value?: boolean): boolean {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`torch.backends.${name}: expected a boolean but received ${describe(value)}`);
  }
  return (value === undefined ? N.backendFlag(name) : N.backendFlag(name, value)) as boolean;
}

// An object whose properties read and write libtorch's switches by name.
function switches<K extends string>(names: Record<K, string>): Record<K, boolean> {
  const o = {} as Record<K, boolean>;
  for (const [key, name] of Object.entries(names) as [K, string][]) {
    Object.defineProperty(o, key, { get: () => flag(name), set: (v: boolean) => void flag(name, v), enumerable: true });
  }
  return o;
}

/** `torch.backends.cudnn`: switches of cuDNN (convolutions on CUDA). */
export interface CudnnBackend {
  /** Whether cuDNN is used at all (`enabled`; default true). */
  enabled: boolean;
  /** Let cuDNN time its algorithms and keep the fastest per input shape (`benchmark`; default false). */
  benchmark: boolean;
  /** Only deterministic cuDNN algorithms (`deterministic`; default false). */
  deterministic: boolean;
  /** TensorFloat-32 in cuDNN convolutions on Ampere and newer (`allow_tf32`; default true). */
  allowTf32: boolean;
  /** Whether this libtorch has a usable cuDNN (`is_available()`). */
  isAvailable(): boolean;
  /** cuDNN's version number (e.g. 92400), or null without cuDNN (`version()`). */
  version(): number | null;
}

export const cudnn: CudnnBackend = Object.assign(
  switches({ enabled: 'cudnn.enabled', benchmark: 'cudnn.benchmark', deterministic: 'cudnn.deterministic', allowTf32: 'cudnn.allow_tf32' }),
  {
    isAvailable: (): boolean => N.backendFlag('cudnn.version') !== null,
    version: (): number | null => N.backendFlag('cudnn.version') as number | null,
  },
);

/** `torch.backends.cuda`: `matmul.allowTf32` (TensorFloat-32 in float32 matrix products; default false). */
export const cudaBackend: { matmul: { allowTf32: boolean } } = { matmul: switches({ allowTf32: 'cuda.matmul.allow_tf32' }) };

/** The precision of float32 matrix products. */
export type Float32MatmulPrecision = 'highest' | 'high' | 'medium';

/**
 * `torch.set_float32_matmul_precision`: 'highest' (float32 throughout, the default), 'high' (TensorFloat-32 or
 * equivalent where available), 'medium' (bfloat16-based where available).
 */
export function setFloat32MatmulPrecision(precision: Float32MatmulPrecision): void {
  if (precision !== 'highest' && precision !== 'high' && precision !== 'medium') {
    throw new RangeError(`setFloat32MatmulPrecision: expected 'highest', 'high' or 'medium' but received ${describe(precision)}`);
  }
  N.backendFlag('float32_matmul_precision', precision);
}

/** `torch.get_float32_matmul_precision()`. */
export function getFloat32MatmulPrecision(): Float32MatmulPrecision {
  return N.backendFlag('float32_matmul_precision') as Float32MatmulPrecision;
}

/**
 * `torch.use_deterministic_algorithms(mode, warn_only)`: ops without a deterministic implementation then throw a
 * TorchError (or only warn, with `warnOnly`).
 */
export function useDeterministicAlgorithms(mode: boolean, options: { warnOnly?: boolean } = {}): void {
  if (typeof mode !== 'boolean') throw new TypeError(`useDeterministicAlgorithms: expected a boolean but received ${describe(mode)}`);
  const warnOnly = options?.warnOnly ?? false;
  if (typeof warnOnly !== 'boolean') throw new TypeError(`useDeterministicAlgorithms: expected a boolean for warnOnly but received ${describe(warnOnly)}`);
  N.backendFlag('deterministic_algorithms', mode, warnOnly);
}

/** `torch.are_deterministic_algorithms_enabled()`. */
export function areDeterministicAlgorithmsEnabled(): boolean {
  return (N.backendFlag('deterministic_algorithms') as [boolean, boolean])[0];
}

/** `torch.is_deterministic_algorithms_warn_only_enabled()`. */
export function isDeterministicAlgorithmsWarnOnlyEnabled(): boolean {
  return (N.backendFlag('deterministic_algorithms') as [boolean, boolean])[1];
}
