/**
 * torch.nn.init: parameter initialisation, ported from torch/nn/init.py (PyTorch 2.13) with its arithmetic and its
 * calls into the default generator in the same order, so that after the same seed the same tensors get the same
 * values as in Python. Each function fills the tensor in place (without recording autograd) and returns it. As
 * everywhere in torchkd, arguments after the tensor may be given positionally or by name in a trailing options object.
 *
 * @example
 * nn.init.kaimingNormal_(conv.weight, { mode: 'fan_out', nonlinearity: 'relu' });
 * nn.init.zeros_(conv.bias!);
 */
import { native } from '../binding';
import { describe } from '../dtype';
import { TorchError } from '../errors';
import * as L from '../generated/linalg';
import * as T from '../generated/torch';
import { Tensor, positionalOrOptions, wrap } from '../tensor';

const N = native();

function noGrad<T>(fn: () => T): T {
  const prev = N.setGradEnabled(false);
  try {
    return fn();
  } finally {
    N.setGradEnabled(prev);
  }
}

function tensorArg(t: unknown, fn: string): Tensor {
  if (t instanceof Tensor) return t;
  throw new TypeError(`nn.init.${fn}: expected a Tensor but received ${describe(t)}`);
}

function numArg(v: unknown, fn: string, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`nn.init.${fn}: expected a number for ${name} but received ${describe(v)}`);
  return v;
}

/** A parameter's value, or its default when it was not given (null is a value, as None is in Python). */
function dflt(v: unknown, d: unknown): unknown {
  return v === undefined ? d : v;
}

function args(fn: string, rest: unknown[], names: string[], required: string[] = []): Record<string, unknown> {
  return positionalOrOptions(`nn.init.${fn}`, rest, names, { required });
}

/** The non-linearities {@link calculateGain} knows. */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/** The fan a Kaiming initialiser scales by. */
export type FanMode = 'fan_in' | 'fan_out';

const LINEAR = new Set(['linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d']);

/** The recommended gain for a non-linearity (`param` is leaky_relu's negative slope, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number | null): number {
  if (LINEAR.has(nonlinearity) || nonlinearity === 'sigmoid') return 1;
  if (nonlinearity === 'tanh') return 5.0 / 3;
  if (nonlinearity === 'relu') return Math.sqrt(2.0);
  if (nonlinearity === 'leaky_relu') {
    if (param !== undefined && param !== null && typeof param !== 'number') throw new TorchError(`negative_slope ${String(param)} not a valid number`, 'VALUE_ERROR');
    const slope = param ?? 0.01;
    return Math.sqrt(2.0 / (1 + slope * slope));
  }
  if (nonlinearity === 'selu') return 3.0 / 4;
  throw new TorchError(`Unsupported nonlinearity ${String(nonlinearity)}`, 'VALUE_ERROR');
}

/** fan_in and fan_out of a weight of at least 2 dims: (out, in, *receptive field). */
export function calculateFanInAndFanOut(tensor: Tensor): [number, number] {
  const shape = tensorArg(tensor, 'calculateFanInAndFanOut').shape;
  if (shape.length < 2) throw new TorchError('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions', 'VALUE_ERROR');
  let receptive = 1;
  for (const s of shape.slice(2)) receptive *= s;
  return [shape[1] * receptive, shape[0] * receptive];
}

function correctFan(tensor: Tensor, mode: unknown): number {
  const m = typeof mode === 'string' ? mode.toLowerCase() : mode;
  if (m !== 'fan_in' && m !== 'fan_out') throw new TorchError(`Mode ${String(mode)} not supported, please use one of ['fan_in', 'fan_out']`, 'VALUE_ERROR');
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  return m === 'fan_in' ? fanIn : fanOut;
}

function isEmpty(t: Tensor): boolean {
  return t.shape.includes(0);
}

/** Fills with samples of U(a, b). */
export function uniform_(tensor: Tensor, a?: number, b?: number): Tensor;
export function uniform_(tensor: Tensor, options: { a?: number; b?: number }): Tensor;
export function uniform_(tensor: Tensor, ...rest: unknown[]): Tensor {
  const t = tensorArg(tensor, 'uniform_');
  const o = args('uniform_', rest, ['a', 'b']);
  const a = numArg(dflt(o.a, 0.0), 'uniform_', 'a');
  const b = numArg(dflt(o.b, 1.0), 'uniform_', 'b');
  return noGrad(() => t.uniform_(a, b));
}

/** Fills with samples of N(mean, std²). */
export function normal_(tensor: Tensor, mean?: number, std?: number): Tensor;
export function normal_(tensor: Tensor, options: { mean?: number; std?: number }): Tensor;
export function normal_(tensor: Tensor, ...rest: unknown[]): Tensor {
  const t = tensorArg(tensor, 'normal_');
  const o = args('normal_', rest, ['mean', 'std']);
  const mean = numArg(dflt(o.mean, 0.0), 'normal_', 'mean');
  const std = numArg(dflt(o.std, 1.0), 'normal_', 'std');
  return noGrad(() => t.normal_(mean, std));
}

/**
 * Fills with samples of N(mean, std²) truncated to [a, b], by PyTorch's sampler: redrawn normals while [a, b] holds
 * more than 30% of the mass, otherwise uniform proposals accepted by the log-density ratio.
 */
export function truncNormal_(tensor: Tensor, mean?: number, std?: number, a?: number, b?: number): Tensor;
export function truncNormal_(tensor: Tensor, options: { mean?: number; std?: number; a?: number; b?: number }): Tensor;
export function truncNormal_(tensor: Tensor, ...rest: unknown[]): Tensor {
  const t = tensorArg(tensor, 'truncNormal_');
  const o = args('truncNormal_', rest, ['mean', 'std', 'a', 'b']);
  const mean = numArg(dflt(o.mean, 0.0), 'truncNormal_', 'mean');
  const std = numArg(dflt(o.std, 1.0), 'truncNormal_', 'std');
  const a = numArg(dflt(o.a, -2.0), 'truncNormal_', 'a');
  const b = numArg(dflt(o.b, 2.0), 'truncNormal_', 'b');
  if (mean < a - 2 * std || mean > b + 2 * std) {
    process.emitWarning('mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may be incorrect.');
  }
  // Python's math.erf is the C library's erf; so is the native one used here.
  const cdf = (x: number): number => (1.0 + N.mathErf(x / Math.sqrt(2.0))) / 2.0;
  return noGrad(() => {
    const p = cdf((b - mean) / std) - cdf((a - mean) / std);
    if (p > 0.3) {
      // Bounds as the tensor's dtype holds them (new_tensor(a).item()).
      const lo = T.clone(wrap(N.full([], a, N.dtype(t.h), -1, false))).item();
      const hi = T.clone(wrap(N.full([], b, N.dtype(t.h), -1, false))).item();
      let result = t.normal_(mean, std);
      for (;;) {
        const mask = result.lt(lo).logicalOr(result.gt(hi));
        if (!mask.any().item()) break;
        const fresh = wrap(N.like(5, result.h, null, -1)).normal_(mean, std);
        result = T.where(mask, fresh, result);
      }
      if (result !== t) t.copy_(result);
      return t;
    }
    const mode = Math.max(a, Math.min(mean, b));
    const z = (mode - mean) / std;
    const logPeak = -0.5 * (z * z);
    const candidates = wrap(N.like(5, t.h, null, -1));
    const acceptBuf = wrap(N.like(5, t.h, null, -1));
    t.uniform_(a, b);
    candidates.copy_(t);
    candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(logPeak);
    let pending = acceptBuf.uniform_().log_().gt(candidates);
    if (pending.any().item()) {
      let result: Tensor = t;
      for (;;) {
        candidates.uniform_(a, b);
        result = T.where(pending, candidates, result);
        candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(logPeak);
        pending = T.where(pending, acceptBuf.uniform_().log_().gt(candidates), pending) as typeof pending;
        if (!pending.any().item()) break;
      }
      t.copy_(result);
    }
    return t;
  });
}

/** Fills with a constant. */
export function constant_(tensor: Tensor, val: number): Tensor;
export function constant_(tensor: Tensor, options: { val: number }): Tensor;
export function constant_(tensor: Tensor, ...rest: unknown[]): Tensor {
  const t = tensorArg(tensor, 'constant_');
  const val = numArg(args('constant_', rest, ['val'], ['val']).val, 'constant_', 'val');
  return noGrad(() => t.fill_(val));
}

/** Fills with ones. */
export function ones_(tensor: Tensor): Tensor {
  const t = tensorArg(tensor, 'ones_');
  return noGrad(() => t.fill_(1.0));
}

/** Fills with zeros. */
export function zeros_(tensor: Tensor): Tensor {
  const t = tensorArg(tensor, 'zeros_');
  return noGrad(() => t.zero_());
}

/** Fills a 2-D tensor with the identity matrix. */
export function eye_(tensor: Tensor): Tensor {
  const t = tensorArg(tensor, 'eye_');
  if (t.ndim !== 2) throw new TorchError('Only tensors with 2 dimensions are supported', 'VALUE_ERROR');
  return noGrad(() => {
    t.zero_();
    const [rows, cols] = t.shape;
    for (let i = 0; i < Math.min(rows, cols); i++) t.select(0, i).select(0, i).fill_(1);
    return t;
  });
}

/**
 * Fills a 3-, 4- or 5-D convolution weight with the Dirac delta (identity convolution), for `groups` groups of
 * output channels.
 */
export function dirac_(tensor: Tensor, groups?: number): Tensor;
export function dirac_(tensor: Tensor, options: { groups?: number }): Tensor;
export function dirac_(tensor: Tensor, ...rest: unknown[]): Tensor {
  const t = tensorArg(tensor, 'dirac_');
  const groups = numArg(dflt(args('dirac_', rest, ['groups']).groups, 1), 'dirac_', 'groups');
  const d = t.ndim;
  if (d < 3 || d > 5) throw new TorchError('Only tensors with 3, 4, or 5 dimensions are supported', 'VALUE_ERROR');
  const sizes = t.shape;
  if (sizes[0] % groups !== 0) throw new TorchError('dim 0 must be divisible by groups', 'VALUE_ERROR');
  const perGroup = sizes[0] / groups;
  const minDim = Math.min(perGroup, sizes[1]);
  return noGrad(() => {
    t.zero_();
    for (let g = 0; g < groups; g++) {
      for (let k = 0; k < minDim; k++) {
        let v = t.select(0, g * perGroup + k).select(0, k);
        for (let s = 2; s < d; s++) v = v.select(0, Math.floor(sizes[s] / 2));
        v.fill_(1);
      }
    }
    return t;
  });
}

/** Fills with a (semi-)orthogonal matrix from the QR decomposition of a normal sample, scaled by `gain`. */
export function orthogonal_(tensor: Tensor, gain?: number): Tensor;
export function orthogonal_(tensor: Tensor, options: { gain?: number }): Tensor;
export function orthogonal_(tensor: Tensor, ...rest: unknown[]): Tensor {
  const t = tensorArg(tensor, 'orthogonal_');
  const gain = numArg(dflt(args('orthogonal_', rest, ['gain']).gain, 1), 'orthogonal_', 'gain');
  if (t.ndim < 2) throw new TorchError('Only tensors with 2 or more dimensions are supported', 'VALUE_ERROR');
  if (t.numel() === 0) return t;
  const rows = t.size(0);
  const cols = t.numel() / rows;
  return noGrad(() => {
    const flattened = wrap(N.empty([rows, cols], N.dtype(t.h), N.device(t.h), false)).normal_(0, 1);
    if (rows < cols) flattened.t_();
    const [q, r] = L.qr(flattened);
    const ph = T.diag(r, 0).sign();
    q.mul_(ph);
    if (rows < cols) q.t_();
    t.viewAs(q).copy_(q);
    t.mul_(gain);
    return t;
  });
}

/** Fills a 2-D tensor with N(0, std²) and zeroes a `sparsity` fraction of each column (rows chosen by randperm). */
export function sparse_(tensor: Tensor, sparsity: number, std?: number): Tensor;
export function sparse_(tensor: Tensor, options: { sparsity: number; std?: number }): Tensor;
export function sparse_(tensor: Tensor, ...rest: unknown[]): Tensor {
  const t = tensorArg(tensor, 'sparse_');
  const o = args('sparse_', rest, ['sparsity', 'std'], ['sparsity']);
  const sparsity = numArg(o.sparsity, 'sparse_', 'sparsity');
  const std = numArg(dflt(o.std, 0.01), 'sparse_', 'std');
  if (t.ndim !== 2) throw new TorchError('Only tensors with 2 dimensions are supported', 'VALUE_ERROR');
  const [rows, cols] = t.shape;
  const numZeros = Math.ceil(sparsity * rows);
  return noGrad(() => {
    t.normal_(0, std);
    for (let c = 0; c < cols; c++) {
      const perm = wrap(N.randperm(rows, 4, -1));
      t.select(1, c).indexFill_(0, perm.narrow(0, 0, numZeros), 0);
    }
    return t;
  });
}

/** Glorot/Xavier uniform: U(−a, a) with a = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform_(tensor: Tensor, gain?: number): Tensor;
export function xavierUniform_(tensor: Tensor, options: { gain?: number }): Tensor;
export function xavierUniform_(tensor: Tensor, ...rest: unknown[]): Tensor {
  const t = tensorArg(tensor, 'xavierUniform_');
  const gain = numArg(dflt(args('xavierUniform_', rest, ['gain']).gain, 1.0), 'xavierUniform_', 'gain');
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  return noGrad(() => t.uniform_(-a, a));
}

/** Glorot/Xavier normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal_(tensor: Tensor, gain?: number): Tensor;
export function xavierNormal_(tensor: Tensor, options: { gain?: number }): Tensor;
export function xavierNormal_(tensor: Tensor, ...rest: unknown[]): Tensor {
  const t = tensorArg(tensor, 'xavierNormal_');
  const gain = numArg(dflt(args('xavierNormal_', rest, ['gain']).gain, 1.0), 'xavierNormal_', 'gain');
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  return noGrad(() => t.normal_(0.0, std));
}

/** Options of the Kaiming initialisers (PyTorch's defaults: a = 0, fan_in, leaky_relu). */
export interface KaimingOptions {
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, fn: string, rest: unknown[]): number {
  const o = args(fn, rest, ['a', 'mode', 'nonlinearity']);
  const a = numArg(dflt(o.a, 0), fn, 'a');
  const fan = correctFan(t, o.mode ?? 'fan_in');
  return calculateGain((o.nonlinearity ?? 'leaky_relu') as Nonlinearity, a) / Math.sqrt(fan);
}

/** He/Kaiming uniform: U(−bound, bound) with bound = gain·√(3 / fan). */
export function kaimingUniform_(tensor: Tensor, a?: number, mode?: FanMode, nonlinearity?: Nonlinearity): Tensor;
export function kaimingUniform_(tensor: Tensor, options: KaimingOptions): Tensor;
export function kaimingUniform_(tensor: Tensor, a: number, options: Omit<KaimingOptions, 'a'>): Tensor;
export function kaimingUniform_(tensor: Tensor, ...rest: unknown[]): Tensor {
  const t = tensorArg(tensor, 'kaimingUniform_');
  if (isEmpty(t)) {
    process.emitWarning('Initializing zero-element tensors is a no-op');
    return t;
  }
  const bound = Math.sqrt(3.0) * kaimingStd(t, 'kaimingUniform_', rest);
  return noGrad(() => t.uniform_(-bound, bound));
}

/** He/Kaiming normal: N(0, std²) with std = gain / √fan. */
export function kaimingNormal_(tensor: Tensor, a?: number, mode?: FanMode, nonlinearity?: Nonlinearity): Tensor;
export function kaimingNormal_(tensor: Tensor, options: KaimingOptions): Tensor;
export function kaimingNormal_(tensor: Tensor, a: number, options: Omit<KaimingOptions, 'a'>): Tensor;
export function kaimingNormal_(tensor: Tensor, ...rest: unknown[]): Tensor {
  const t = tensorArg(tensor, 'kaimingNormal_');
  if (isEmpty(t)) {
    process.emitWarning('Initializing zero-element tensors is a no-op');
    return t;
  }
  const std = kaimingStd(t, 'kaimingNormal_', rest);
  return noGrad(() => t.normal_(0, std));
}

/**
 * @internal PyTorch's default initialisation of a Linear/Conv weight and bias (reset_parameters): Kaiming-uniform
 * with a = √5, then the bias uniform in ±1/√fan_in.
 */
export function resetLinearLike(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, Math.sqrt(5));
  if (bias !== null) {
    const [fanIn] = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    // 0 - bound: PyTorch's bound is the integer 0 without inputs, so its bias is +0.0, where -bound would give -0.0.
    uniform_(bias, 0 - bound, bound);
  }
}
