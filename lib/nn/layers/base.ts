/**
 * Internal: Shared pieces of the layer implementations: native adoption, parameter creation on the requested device
 * and dtype, and PyTorch's extra_repr formatting of tuples.
 */
import { native } from '../../binding';
import { type DType, type Device, deviceCode, dtypeCode } from '../../dtype';
import { Tensor, wrap } from '../../tensor';
import { Module, Parameter } from '../module';

export const N = native();

/** PyTorch's repr of a tuple of ints: `(3, 3)`, `(1,)`. */
export function tuple(v: number[]): string {
  return v.length === 1 ? `(${v[0]},)` : `(${v.join(', ')})`;
}

/** Python's repr of a value in extra_repr: True/False/None, strings quoted. */
export function py(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return tuple(v as number[]);
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? String(v) : pyFloat(v);
  return String(v);
}

/** Python's repr of a float: `0.1`, `1e-05`, `1.0`. */
export function pyFloat(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  const a = Math.abs(v);
  // Python's repr: the shortest round-trip digits, scientific below 1e-4 and from 1e16, exponents of two digits.
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  if (Object.is(v, -0)) return '-0.0';
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/** Parameters are floating point: a layer's dtype option must be one. */
function checkFloatingFactory(f: Factory, kind = ''): void {
  if (f.dtype !== null && !['float32', 'float64', 'float16', 'bfloat16'].includes(f.dtype)) {
    throw new TypeError(`${kind ? `nn.${kind}(): ` : ''}dtype must be a floating-point type for a layer's parameters, got ${f.dtype}`);
  }
}

/** Factory options: where a layer's parameters are made. */
export interface Factory {
  device: Device | null;
  dtype: DType | null;
}

/** A new parameter on the factory's device and dtype (uninitialised; the layer's reset fills it). */
export function param(shape: number[], f: Factory): Tensor {
  checkFloatingFactory(f);
  const t = wrap(N.empty(shape, dtypeCodeOf(f.dtype ?? 'float32'), deviceCodeOf(f.device), false));
  return Parameter(t);
}

/** A new buffer on the factory's device (and dtype, for floating buffers). */
export function buffer(t: Tensor, f: Factory): Tensor {
  const floating = t.isFloatingPoint();
  if (f.device === null && (f.dtype === null || !floating)) return t;
  return t.to({ ...(f.device !== null ? { device: f.device } : {}), ...(floating && f.dtype !== null ? { dtype: f.dtype } : {}) });
}

function dtypeCodeOf(d: DType): number {
  return dtypeCode(d);
}
function deviceCodeOf(d: Device | null): number {
  return d === null ? -1 : deviceCode(d);
}

/** A layer whose forward can run in libtorch (its parameters and buffers are the native module's). */
export abstract class NativeLayer extends Module<[Tensor], Tensor> {
  protected constructor(kind: string, options: object) {
    super();
    this._kind = kind;
    this._adoptNative(N.createModule(kind, options));
  }

  /** @internal */
  protected param(name: string): Tensor | null {
    return this._parameters.get(name) ?? null;
  }

  /** @internal */
  protected buffer(name: string): Tensor | null {
    return this._buffers.get(name) ?? null;
  }

  /** @internal Whether this instance needs the TypeScript forward (an option the native module lacks). */
  protected jsForward(): boolean {
    return false;
  }

  override nativeHandle(): number | null {
    return this.jsForward() ? null : super.nativeHandle();
  }

  override forward(x: Tensor): Tensor {
    return super.forward(x);
  }

  /**
   * @internal Moves a natively initialised layer to the factory device/dtype, re-running `reset` there with the
   * random state it started from, so that the values are those PyTorch draws when it creates the parameters there.
   */
  protected applyFactory(f: Factory, reset: (() => void) | null, rngBefore: Tensor | null): void {
    if (f.device === null && (f.dtype === null || f.dtype === 'float32')) return;
    checkFloatingFactory(f, this._kind);
    this.to({ ...(f.device !== null ? { device: f.device } : {}), ...(f.dtype !== null ? { dtype: f.dtype } : {}) });
    if (reset !== null && rngBefore !== null) {
      N.setRngState(rngBefore.h);
      reset();
    }
  }
}

/** The random state now, when the factory options will need it (see NativeLayer.applyFactory). */
export function rngIfFactory(f: Factory): Tensor | null {
  return f.device === null && (f.dtype === null || f.dtype === 'float32') ? null : wrap(N.getRngState());
}
