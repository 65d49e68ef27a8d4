/**
 * Function forms of tensor ops (`torch.add(a, b)`, `torch.cat([...])`, ...), named as in PyTorch.
 * Each is the method of the same name on its first tensor argument; scalars on the left are accepted where
 * Python accepts them (`torch.sub(1, x)` is not PyTorch; use `torch.rsub(x, 1)`).
 */
import { describe } from './dtype';
import {
  N,
  ReduceOptions,
  StdVarOptions,
  Tensor,
  TensorOrScalar,
  ValuesIndices,
  binaryReversed,
  handleOf,
  int,
  whereImpl,
  wrap,
} from './tensor';

function first(t: unknown, fn: string): Tensor {
  if (t instanceof Tensor) return t;
  throw new TypeError(`torch.${fn}() expects a Tensor as its first argument but received ${describe(t)}`);
}

function list(ts: unknown, fn: string): number[] {
  if (!Array.isArray(ts)) throw new TypeError(`torch.${fn}() expects an array of tensors but received ${describe(ts)}`);
  return ts.map((t, i) => handleOf(t, `tensors[${i}]`));
}

export const add = (a: Tensor, b: TensorOrScalar, alpha?: number | { alpha?: number }): Tensor => first(a, 'add').add(b, alpha);
export const sub = (a: Tensor, b: TensorOrScalar, alpha?: number | { alpha?: number }): Tensor => first(a, 'sub').sub(b, alpha);
export const mul = (a: Tensor, b: TensorOrScalar): Tensor => first(a, 'mul').mul(b);
export const div = (a: Tensor, b: TensorOrScalar, o?: { roundingMode?: 'floor' | 'trunc' | null }): Tensor => first(a, 'div').div(b, o);
/** `torch.pow(x, e)`, or `torch.pow(2, x)` with a number base. */
export const pow = (a: Tensor | number, e: TensorOrScalar): Tensor =>
  typeof a === 'number' ? binaryReversed('pow', a, first(e, 'pow')) : first(a, 'pow').pow(e);
/** other − alpha·input (PyTorch's rsub). */
export const rsub = (a: Tensor, other: number): Tensor => binaryReversed('sub', other, first(a, 'rsub'));
export const remainder = (a: Tensor, b: TensorOrScalar): Tensor => first(a, 'remainder').remainder(b);
export const maximum = (a: Tensor, b: Tensor): Tensor => first(a, 'maximum').maximum(b);
export const minimum = (a: Tensor, b: Tensor): Tensor => first(a, 'minimum').minimum(b);
export const neg = (a: Tensor): Tensor => first(a, 'neg').neg();
export const exp = (a: Tensor): Tensor => first(a, 'exp').exp();
export const log = (a: Tensor): Tensor => first(a, 'log').log();
export const sqrt = (a: Tensor): Tensor => first(a, 'sqrt').sqrt();
export const rsqrt = (a: Tensor): Tensor => first(a, 'rsqrt').rsqrt();
export const square = (a: Tensor): Tensor => first(a, 'square').square();
export const abs = (a: Tensor): Tensor => first(a, 'abs').abs();
export const sign = (a: Tensor): Tensor => first(a, 'sign').sign();
export const sigmoid = (a: Tensor): Tensor => first(a, 'sigmoid').sigmoid();
export const tanh = (a: Tensor): Tensor => first(a, 'tanh').tanh();
export const relu = (a: Tensor): Tensor => first(a, 'relu').relu();
export const floor = (a: Tensor): Tensor => first(a, 'floor').floor();
export const ceil = (a: Tensor): Tensor => first(a, 'ceil').ceil();
export const round = (a: Tensor): Tensor => first(a, 'round').round();
export const sin = (a: Tensor): Tensor => first(a, 'sin').sin();
export const cos = (a: Tensor): Tensor => first(a, 'cos').cos();
export const clamp = (a: Tensor, min?: number | null, max?: number | null): Tensor => first(a, 'clamp').clamp(min, max);
export const eq = (a: Tensor, b: TensorOrScalar): Tensor => first(a, 'eq').eq(b);
export const ne = (a: Tensor, b: TensorOrScalar): Tensor => first(a, 'ne').ne(b);
export const lt = (a: Tensor, b: TensorOrScalar): Tensor => first(a, 'lt').lt(b);
export const le = (a: Tensor, b: TensorOrScalar): Tensor => first(a, 'le').le(b);
export const gt = (a: Tensor, b: TensorOrScalar): Tensor => first(a, 'gt').gt(b);
export const ge = (a: Tensor, b: TensorOrScalar): Tensor => first(a, 'ge').ge(b);
export const isnan = (a: Tensor): Tensor => first(a, 'isnan').isnan();
export const isfinite = (a: Tensor): Tensor => first(a, 'isfinite').isfinite();
export const equal = (a: Tensor, b: Tensor): boolean => first(a, 'equal').equal(b);
export const allclose = (a: Tensor, b: Tensor, o?: { rtol?: number; atol?: number; equalNan?: boolean }): boolean => first(a, 'allclose').allclose(b, o);

export const sum = (a: Tensor, dim?: number | number[] | null, o?: ReduceOptions | boolean): Tensor => first(a, 'sum').sum(dim, o);
export const mean = (a: Tensor, dim?: number | number[] | null, o?: ReduceOptions | boolean): Tensor => first(a, 'mean').mean(dim, o);
export const prod = (a: Tensor, dim?: number | null, o?: ReduceOptions | boolean): Tensor => first(a, 'prod').prod(dim, o);
export const std = (a: Tensor, dim?: number | number[] | null, o?: StdVarOptions): Tensor => first(a, 'std').std(dim, o);
export const var_ = (a: Tensor, dim?: number | number[] | null, o?: StdVarOptions): Tensor => first(a, 'var').var(dim, o);
export const logsumexp = (a: Tensor, dim: number | number[], keepdim = false): Tensor => first(a, 'logsumexp').logsumexp(dim, keepdim);
export const amax = (a: Tensor, dim?: number | number[], keepdim = false): Tensor => first(a, 'amax').amax(dim, keepdim);
export const amin = (a: Tensor, dim?: number | number[], keepdim = false): Tensor => first(a, 'amin').amin(dim, keepdim);
export function max(a: Tensor): Tensor;
export function max(a: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function max(a: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? first(a, 'max').max() : first(a, 'max').max(dim, keepdim);
}
export function min(a: Tensor): Tensor;
export function min(a: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function min(a: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? first(a, 'min').min() : first(a, 'min').min(dim, keepdim);
}
export const argmax = (a: Tensor, dim?: number | null, keepdim = false): Tensor => first(a, 'argmax').argmax(dim, keepdim);
export const argmin = (a: Tensor, dim?: number | null, keepdim = false): Tensor => first(a, 'argmin').argmin(dim, keepdim);
export const cumsum = (a: Tensor, dim: number): Tensor => first(a, 'cumsum').cumsum(dim);

export const matmul = (a: Tensor, b: Tensor): Tensor => first(a, 'matmul').matmul(b);
export const mm = (a: Tensor, b: Tensor): Tensor => first(a, 'mm').mm(b);
export const bmm = (a: Tensor, b: Tensor): Tensor => first(a, 'bmm').bmm(b);
export const dot = (a: Tensor, b: Tensor): Tensor => first(a, 'dot').dot(b);
export const t = (a: Tensor): Tensor => first(a, 't').t();

export const reshape = (a: Tensor, shape: number[]): Tensor => first(a, 'reshape').reshape(shape);
export const flatten = (a: Tensor, startDim = 0, endDim = -1): Tensor => first(a, 'flatten').flatten(startDim, endDim);
export const squeeze = (a: Tensor, dim?: number): Tensor => first(a, 'squeeze').squeeze(dim);
export const unsqueeze = (a: Tensor, dim: number): Tensor => first(a, 'unsqueeze').unsqueeze(dim);
export const transpose = (a: Tensor, d0: number, d1: number): Tensor => first(a, 'transpose').transpose(d0, d1);
export const permute = (a: Tensor, dims: number[]): Tensor => first(a, 'permute').permute(dims);
export const narrow = (a: Tensor, dim: number, start: number, length: number): Tensor => first(a, 'narrow').narrow(dim, start, length);
export const select = (a: Tensor, dim: number, index: number): Tensor => first(a, 'select').select(dim, index);
export const indexSelect = (a: Tensor, dim: number, index: Tensor): Tensor => first(a, 'indexSelect').indexSelect(dim, index);
export const gather = (a: Tensor, dim: number, index: Tensor): Tensor => first(a, 'gather').gather(dim, index);
export const split = (a: Tensor, s: number | number[], dim = 0): Tensor[] => first(a, 'split').split(s, dim);
export const chunk = (a: Tensor, n: number, dim = 0): Tensor[] => first(a, 'chunk').chunk(n, dim);
export const unbind = (a: Tensor, dim = 0): Tensor[] => first(a, 'unbind').unbind(dim);
export const maskedFill = (a: Tensor, mask: Tensor, v: TensorOrScalar): Tensor => first(a, 'maskedFill').maskedFill(mask, v);
export const softmax = (a: Tensor, dim: number): Tensor => first(a, 'softmax').softmax(dim);
export const logSoftmax = (a: Tensor, dim: number): Tensor => first(a, 'logSoftmax').logSoftmax(dim);
export const topk = (a: Tensor, k: number, dim = -1, largest = true, sorted = true): ValuesIndices => first(a, 'topk').topk(k, dim, largest, sorted);
export const sort = (a: Tensor, dim = -1, descending = false): ValuesIndices => first(a, 'sort').sort(dim, descending);
export const argsort = (a: Tensor, dim = -1, descending = false): Tensor => first(a, 'argsort').argsort(dim, descending);
export const tril = (a: Tensor, diagonal = 0): Tensor => first(a, 'tril').tril(diagonal);
export const triu = (a: Tensor, diagonal = 0): Tensor => first(a, 'triu').triu(diagonal);

/** Concatenates along an existing dim. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  return wrap(N.catStack(false, list(tensors, 'cat'), int(dim, 'dim')));
}
/** Stacks along a new dim. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return wrap(N.catStack(true, list(tensors, 'stack'), int(dim, 'dim')));
}
/** Elements of `input` where `condition`, else of `other`; either may be a number. */
export function where(condition: Tensor, input: TensorOrScalar, other: TensorOrScalar): Tensor {
  return whereImpl(condition, input, other);
}
