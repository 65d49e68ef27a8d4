/**
 * torch.nn.init: parameter initialisation, ported from torch/nn/init.py with its arithmetic and its calls into the
 * default generator in the same order, so that after the same seed the same tensors get the same values as in
 * Python. Each function fills the tensor in place (without recording autograd) and returns it.
 *
 * @example
 * nn.init.kaimingNormal_(conv.weight, { mode: 'fan_out', nonlinearity: 'relu' });
 * nn.init.zeros_(conv.bias!);
 */
import { native } from '../binding';
import { describe } from '../dtype';
import { TorchError } from '../errors';
import { Tensor } from '../tensor';

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

function correctFan(tensor: Tensor, mode: string): number {
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new TorchError(`Mode ${mode} not supported, please use one of fan_in, fan_out`, 'VALUE_ERROR');
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  return mode === 'fan_in' ? fanIn : fanOut;
}

function isEmpty(t: Tensor): boolean {
  return t.shape.includes(0);
}

/** Fills with samples of U(a, b). */
export function uniform_(tensor: Tensor, a = 0.0, b = 1.0): Tensor {
  const t = tensorArg(tensor, 'uniform_');
  return noGrad(() => t.uniform_(numArg(a, 'uniform_', 'a'), numArg(b, 'uniform_', 'b')));
}

/** Fills with samples of N(mean, std²). */
export function normal_(tensor: Tensor, mean = 0.0, std = 1.0): Tensor {
  const t = tensorArg(tensor, 'normal_');
  return noGrad(() => t.normal_(numArg(mean, 'normal_', 'mean'), numArg(std, 'normal_', 'std')));
}

/** Fills with samples of N(mean, std²) truncated to [a, b] (by inverse-CDF sampling, as PyTorch). */
export function truncNormal_(tensor: Tensor, mean = 0.0, std = 1.0, a = -2.0, b = 2.0): Tensor {
  const t = tensorArg(tensor, 'truncNormal_');
  for (const [v, n] of [[mean, 'mean'], [std, 'std'], [a, 'a'], [b, 'b']] as const) numArg(v, 'truncNormal_', n);
  if (mean < a - 2 * std || mean > b + 2 * std) {
    process.emitWarning('mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may be incorrect.');
  }
  // Python's math.erf is the C library's erf; so is the native one used here.
  const cdf = (x: number): number => (1.0 + N.mathErf(x / Math.sqrt(2.0))) / 2.0;
  return noGrad(() => {
    const l = cdf((a - mean) / std);
    const u = cdf((b - mean) / std);
    t.uniform_(2 * l - 1, 2 * u - 1);
    t.erfinv_();
    t.mul_(std * Math.sqrt(2.0));
    t.add_(mean);
    t.clamp_(a, b);
    return t;
  });
}

/** Fills with a constant. */
export function constant_(tensor: Tensor, val: number): Tensor {
  const t = tensorArg(tensor, 'constant_');
  return noGrad(() => t.fill_(numArg(val, 'constant_', 'val')));
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

/** Glorot/Xavier uniform: U(−a, a) with a = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform_(tensor: Tensor, gain = 1.0): Tensor {
  const t = tensorArg(tensor, 'xavierUniform_');
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = numArg(gain, 'xavierUniform_', 'gain') * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  return noGrad(() => t.uniform_(-a, a));
}

/** Glorot/Xavier normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal_(tensor: Tensor, gain = 1.0): Tensor {
  const t = tensorArg(tensor, 'xavierNormal_');
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = numArg(gain, 'xavierNormal_', 'gain') * Math.sqrt(2.0 / (fanIn + fanOut));
  return noGrad(() => t.normal_(0.0, std));
}

/** Options of the Kaiming initialisers (PyTorch's defaults: a = 0, fan_in, leaky_relu). */
export interface KaimingOptions {
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, fn: string, o: KaimingOptions): number {
  if (o === null || typeof o !== 'object') throw new TypeError(`nn.init.${fn}: expected an options object but received ${describe(o)}`);
  const a = numArg(o.a ?? 0, fn, 'a');
  const fan = correctFan(t, o.mode ?? 'fan_in');
  return calculateGain(o.nonlinearity ?? 'leaky_relu', a) / Math.sqrt(fan);
}

/** He/Kaiming uniform: U(−bound, bound) with bound = gain·√(3 / fan). `a` may be given positionally, as in Python. */
export function kaimingUniform_(tensor: Tensor, a: number | KaimingOptions = {}, options: KaimingOptions = {}): Tensor {
  const t = tensorArg(tensor, 'kaimingUniform_');
  const o = typeof a === 'number' ? { ...options, a } : a;
  if (isEmpty(t)) {
    process.emitWarning('Initializing zero-element tensors is a no-op');
    return t;
  }
  const bound = Math.sqrt(3.0) * kaimingStd(t, 'kaimingUniform_', o);
  return noGrad(() => t.uniform_(-bound, bound));
}

/** He/Kaiming normal: N(0, std²) with std = gain / √fan. */
export function kaimingNormal_(tensor: Tensor, a: number | KaimingOptions = {}, options: KaimingOptions = {}): Tensor {
  const t = tensorArg(tensor, 'kaimingNormal_');
  const o = typeof a === 'number' ? { ...options, a } : a;
  if (isEmpty(t)) {
    process.emitWarning('Initializing zero-element tensors is a no-op');
    return t;
  }
  const std = kaimingStd(t, 'kaimingNormal_', o);
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
    uniform_(bias, -bound, bound);
  }
}
