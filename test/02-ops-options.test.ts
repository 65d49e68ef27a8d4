/**
 * The calling convention of the generated ops (scripts/codegen/ops/*.js → lib/generated/): every parameter may be
 * given positionally or by name in a trailing options object, as Python's keywords, with Python's errors for keyword
 * mistakes (TypeError: "multiple values", unexpected names, too many positional arguments, missing arguments, wrong
 * types, no matching signature; RangeError: non-integers for ints, unknown string choices). Values libtorch rejects
 * come back as TorchError with libtorch's message and no C++ backtrace.
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { type Tensor, TorchError, ValuesIndices } from '../lib/index';
import { thrown } from './helpers';

const F = torch.F;

/** The same dtype, shape and bits (NaN payloads aside). */
function same(a: Tensor | Tensor[] | ValuesIndices, b: Tensor | Tensor[] | ValuesIndices): void {
  const flat = (r: Tensor | Tensor[] | ValuesIndices): Tensor[] => (r instanceof ValuesIndices ? [r.values, r.indices] : Array.isArray(r) ? r : [r]);
  const xs = flat(a);
  const ys = flat(b);
  expect(xs.length).toBe(ys.length);
  xs.forEach((x, i) => {
    expect(x.dtype).toBe(ys[i].dtype);
    expect(x.shape).toEqual(ys[i].shape);
    expect(Array.from(x.data() as ArrayLike<number | bigint>)).toEqual(Array.from(ys[i].data() as ArrayLike<number | bigint>));
  });
}

/** All calls give what the first gives, to the bit. */
function allSame(...results: (Tensor | Tensor[] | ValuesIndices)[]): void {
  for (const r of results.slice(1)) same(r, results[0]);
}

/** Calls a function with arguments its TS overloads do not admit (Python-style keywords, or the mistakes under test). */
const callFn = (f: unknown, ...a: unknown[]): Tensor => (f as (...args: unknown[]) => Tensor)(...a);
/** The same for a method of `t`. */
const callMethod = (t: Tensor, m: string, ...a: unknown[]): Tensor => (t as unknown as Record<string, (...args: unknown[]) => Tensor>)[m](...a);

/** The error a call throws, checked to be a TypeError / RangeError / TorchError without a C++ backtrace. */
function err(fn: () => unknown): Error {
  const e = thrown(fn);
  expect(e instanceof TypeError || e instanceof RangeError || e instanceof TorchError, `${e.constructor.name}: ${e.message}`).toBe(true);
  expect(e.message).not.toMatch(/Exception raised from|frame #\d/);
  return e;
}

torch.manualSeed(0);
const x = torch.randn(3, 4);
const y = torch.randn(3, 4);
const img = torch.randn(2, 3, 6, 5);
const w = torch.randn(4, 3, 3, 3);
const b = torch.randn(4);

describe('the same call positionally, fully in options and mixed gives the same bits', () => {
  it('a method: x.sum(dim, keepdim, {dtype})', () => {
    allSame(
      x.sum(1, true, { dtype: 'float64' }),
      x.sum({ dim: 1, keepdim: true, dtype: 'float64' }),
      x.sum(1, { keepdim: true, dtype: 'float64' }),
      x.sum({ dtype: 'float64', keepdim: true, dim: 1 }), // order of the names does not matter
    );
    // an absent option (undefined) is the default, as leaving it out
    allSame(x.sum(), x.sum({}), x.sum({ dim: undefined }), x.sum(null));
  });

  it('a torch function: torch.cdist(x1, x2, p, computeMode), the input also by name', () => {
    const a = torch.randn(5, 3);
    const c = torch.randn(4, 3);
    allSame(
      torch.cdist(a, c, 1, 'donot_use_mm_for_euclid_dist'),
      torch.cdist(a, c, { p: 1, computeMode: 'donot_use_mm_for_euclid_dist' }),
      torch.cdist(a, c, 1, { computeMode: 'donot_use_mm_for_euclid_dist' }),
      // Python's torch.cdist(x1=a, x2=c, p=1, ...): every parameter has a name (not in the TS overloads)
      callFn(torch.cdist, { x1: a, x2: c, p: 1, computeMode: 'donot_use_mm_for_euclid_dist' }),
    );
  });

  it('an F function: F.conv2d(input, weight, bias, stride, padding, dilation, groups)', () => {
    allSame(
      F.conv2d(img, w, b, 2, 1, 1, 1),
      F.conv2d(img, w, { bias: b, stride: 2, padding: 1, dilation: 1, groups: 1 }),
      F.conv2d(img, w, b, { stride: [2, 2], padding: 1 }),
      F.conv2d(img, w, b, 2, { padding: [1, 1] }),
      callFn(F.conv2d, { input: img, weight: w, bias: b, stride: 2, padding: 1 }),
    );
  });

  it('F.softmax and F.leakyRelu: the input by name too (Python: F.softmax(input=x, dim=1))', () => {
    allSame(F.softmax(x, 1), F.softmax(x, { dim: 1 }), callFn(F.softmax, { input: x, dim: 1 }));
    allSame(F.leakyRelu(x, 0.2), F.leakyRelu(x, { negativeSlope: 0.2 }), F.leakyRelu(x, 0.2, { inplace: false }));
  });

  it('an overloaded op, max: the signature is chosen by the arguments, given either way', () => {
    allSame(x.max(1, true), x.max({ dim: 1, keepdim: true }), x.max(1, { keepdim: true }), torch.max(x, 1, true), torch.max(x, { dim: 1, keepdim: true }));
    allSame(x.max(y), x.max({ other: y }), torch.max(x, y), torch.maximum(x, y));
    allSame(x.max(), torch.max(x));
    expect(x.max(1)).toBeInstanceOf(ValuesIndices);
    expect(x.max({ other: y })).not.toBeInstanceOf(ValuesIndices);
  });

  it('an overloaded op, split: a size or a list of sizes', () => {
    allSame(x.split(3, 1), x.split({ splitSizeOrSections: 3, dim: 1 }), torch.split(x, 3, { dim: 1 }));
    allSame(x.split([1, 3], 1), x.split([1, 3], { dim: 1 }), torch.split(x, { splitSizeOrSections: [1, 3], dim: 1 }));
  });

  it("an overloaded op, norm: 'fro' / 'nuc' or a number, given either way", () => {
    allSame(x.norm('fro', 1, true), x.norm({ p: 'fro', dim: 1, keepdim: true }), torch.norm(x, 'fro', { dim: 1, keepdim: true }));
    allSame(x.norm(3, 0), x.norm({ p: 3, dim: 0 }), torch.norm(x, 3, { dim: 0 }), torch.linalg.vectorNorm(x, 3, 0));
    allSame(x.norm('nuc'), x.norm({ p: 'nuc' }), torch.linalg.matrixNorm(x, 'nuc'));
    allSame(x.norm(), x.norm('fro'), x.norm({ p: 'fro' }), x.norm(null), x.norm(2));
  });

  it("an overloaded op, conv2d: a padding string selects the 'same'/'valid' signature in either form", () => {
    allSame(F.conv2d(img, w, b, 1, 'same'), F.conv2d(img, w, b, { padding: 'same' }), F.conv2d(img, w, { bias: b, padding: 'same' }), F.conv2d(img, w, b, 1, 1));
    allSame(F.conv2d(img, w, null, 1, 'valid', 2), F.conv2d(img, w, { padding: 'valid', dilation: 2 }), F.conv2d(img, w, null, 1, 0, 2));
  });

  it('varargs: reshape / permute take numbers, one array or {shape} / {dims}', () => {
    const c = torch.randn(2, 3, 4);
    allSame(c.reshape(4, 6), c.reshape([4, 6]), callMethod(c, 'reshape', { shape: [4, 6] }), torch.reshape(c, 4, 6), torch.reshape(c, [4, 6]));
    allSame(c.permute(2, 0, 1), c.permute([2, 0, 1]), callMethod(c, 'permute', { dims: [2, 0, 1] }), torch.permute(c, 2, 0, 1));
  });

  it('varargs: einsum takes the operands listed, in one array, or by name', () => {
    const m = torch.randn(4, 5);
    allSame(
      torch.einsum('ij,jk->ik', x, m),
      torch.einsum('ij,jk->ik', [x, m]),
      callFn(torch.einsum, { equation: 'ij,jk->ik', operands: [x, m] }),
      callFn(torch.einsum, 'ij,jk->ik', { operands: [x, m] }),
      x.matmul(m),
    );
  });

  it('a Tensor|number parameter: add / where / maskedFill take either, positionally or by name', () => {
    allSame(x.add(2.5), x.add({ other: 2.5 }), torch.add(x, 2.5), torch.add(x, { other: 2.5 }), x.add(torch.tensor(2.5)));
    allSame(x.add(y, 3), x.add(y, { alpha: 3 }), x.add({ other: y, alpha: 3 }), torch.add(x, y, { alpha: 3 }));
    const cond = x.gt(0);
    allSame(torch.where(cond, x, -1.5), torch.where(cond, x, { other: -1.5 }), torch.where(cond, { input: x, other: -1.5 }), x.where(cond, -1.5), x.where({ condition: cond, other: -1.5 }));
    allSame(torch.where(cond, 1.5, y), torch.where(cond, { input: 1.5, other: y }));
    allSame(x.maskedFill(cond, 0.5), x.maskedFill(cond, { value: 0.5 }), x.maskedFill({ mask: cond, value: 0.5 }), x.maskedFill(cond, torch.tensor(0.5)), torch.maskedFill(x, cond, { value: 0.5 }));
  });

  it('an in-place op: add_ / clamp_ / maskedFill_ given either way write the same values into this tensor', () => {
    const forms = [
      (t: Tensor) => t.add_(y, 2),
      (t: Tensor) => t.add_(y, { alpha: 2 }),
      (t: Tensor) => t.add_({ other: y, alpha: 2 }),
    ];
    const outs = forms.map((f) => {
      const t = x.clone();
      const r = f(t);
      same(r, t); // returns the tensor it wrote into
      return t;
    });
    allSame(...outs, x.add(y, 2));
    allSame(x.clone().clamp_(-0.5, 0.5), x.clone().clamp_({ min: -0.5, max: 0.5 }), x.clone().clamp_(-0.5, { max: 0.5 }), x.clamp(-0.5, 0.5));
    allSame(x.clone().clamp_({ max: 0 }), x.clamp(null, 0));
    const cond = x.lt(0);
    allSame(x.clone().maskedFill_(cond, 9), x.clone().maskedFill_(cond, { value: 9 }), x.clone().maskedFill_({ mask: cond, value: 9 }), x.maskedFill(cond, 9));
  });

  it('{dim} for a required positional parameter (Python: x.softmax(dim=1))', () => {
    allSame(x.softmax(1), x.softmax({ dim: 1 }), torch.softmax(x, { dim: 1 }), F.softmax(x, { dim: 1 }));
    allSame(x.cumsum(0), x.cumsum({ dim: 0 }), torch.cumsum(x, { dim: 0 }));
    allSame(x.select(1, 2), x.select({ dim: 1, index: 2 }), x.select(1, { index: 2 }));
    allSame(x.logsumexp(1), x.logsumexp({ dim: 1 }));
    allSame(x.unsqueeze(0), x.unsqueeze({ dim: 0 }));
    allSame(x.transpose(0, 1), x.transpose({ dim0: 0, dim1: 1 }), x.transpose(0, { dim1: 1 }));
  });

  it('int[N] parameters take a number (repeated) or a list', () => {
    allSame(F.maxPool2d(img, 2), F.maxPool2d(img, [2, 2]), F.maxPool2d(img, { kernelSize: 2 }), F.maxPool2d(img, 2, 2), F.maxPool2d(img, 2, { stride: [2, 2] }));
    const s = torch.randn(1, 2, 8);
    allSame(F.avgPool1d(s, 2), F.avgPool1d(s, [2]), F.avgPool1d(s, { kernelSize: [2], stride: 2 }));
  });
});

describe('keyword mistakes are TypeErrors, as in Python', () => {
  it('a name given positionally and in the options: "got multiple values for argument"', () => {
    for (const [fn, name] of [
      [() => callMethod(x, 'sum', 1, { dim: 1 }), 'dim'],
      [() => callFn(torch.sum, x, 0, { dim: 1 }), 'dim'],
      [() => callFn(F.conv2d, img, w, b, { bias: b }), 'bias'],
      [() => callMethod(x, 'max', 1, { dim: 1 }), 'dim'],
      [() => x.reshape(4, 3, { shape: [4, 3] } as never), 'shape'],
      [() => torch.einsum('ij->ji', x, { operands: [x] } as never), 'operands'],
      [() => callMethod(x, 'add', y, { other: y }), 'other'],
      [() => callMethod(x.clone(), 'clamp_', 0, { min: 0 }), 'min'],
      [() => torch.where(x.gt(0), x, { input: x, other: 0 } as never), 'input'],
    ] as const) {
      const e = err(fn);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(new RegExp(`got multiple values for argument '${name}'`));
    }
  });

  it("a ported `torch.max(outputs.data, 1)`: the TypeError lists the signatures and says what .data is here", () => {
    const outputs = torch.randn(4, 10);
    const e = err(() => callFn(torch.max, outputs.data, 1));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe(
      'torch.max(): received an invalid combination of arguments (function, number); expected one of:\n' +
        '  max(input: Tensor)\n  max(input: Tensor, dim: number, keepdim?: boolean)\n  max(input: Tensor, other: Tensor)\n' +
        "(a function was passed: Tensor.data is a method here, giving a typed array; PyTorch's .data is .detach(), or the tensor itself)",
    );
    // Any other function gets the plain message.
    expect(err(() => callFn(torch.max, () => 0, 1)).message).not.toMatch(/Tensor\.data/);
    // What the port should write instead gives PyTorch's answer.
    const [values, indices] = torch.max(outputs.detach(), 1);
    expect(values.equal(outputs.amax(1))).toBe(true);
    expect(indices.equal(outputs.argmax(1))).toBe(true);
  });

  it('an unknown option: TypeError naming it and listing the valid names', () => {
    let e = err(() => x.sum({ dimm: 1 } as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/unexpected option 'dimm'/);
    expect(e.message).toMatch(/'dim', 'keepdim', 'dtype'/);
    e = err(() => F.relu(x, { inPlace: true } as never));
    expect(e.message).toMatch(/unexpected option 'inPlace' \(it takes 'input', 'inplace'\)/);
    e = err(() => torch.cdist(x, y, { mode: 'x' } as never));
    expect(e.message).toMatch(/'x1', 'x2', 'p', 'computeMode'/);
    e = err(() => callMethod(x, 'exp', { a: 1 }));
    expect(e.message).toMatch(/unexpected option 'a' \(it takes none\)/);
    // on an overloaded op none of whose signatures takes the name
    e = err(() => x.max({ dims: 1 } as never));
    expect(e).toBeInstanceOf(TypeError);
  });

  it('too many positional arguments: TypeError saying how many are taken', () => {
    let e = err(() => callMethod(x, 'sum', 1, true, false));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/takes 2 positional arguments but 3 were given/);
    e = err(() => callMethod(x, 'exp', 1));
    expect(e.message).toMatch(/takes 0 positional arguments but 1 were given/);
    e = err(() => callFn(F.relu, x, true, true));
    expect(e.message).toMatch(/F\.relu\(\): takes 2 positional arguments but 3 were given/);
    // an overloaded op with too many: none of its signatures fits
    e = err(() => callFn(F.conv1d, torch.randn(1, 1, 4), torch.randn(1, 1, 2), null, 1, 0, 1, 1, 5));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/invalid combination of arguments/);
  });

  it('a missing required argument: TypeError naming it', () => {
    for (const [fn, name] of [
      [() => callMethod(x, 'softmax'), 'dim'],
      [() => callFn(F.softmax, x), 'dim'],
      [() => callMethod(x, 'maskedFill', x.gt(0)), 'value'],
      [() => callFn(torch.einsum, 'ij->ji'), 'operands'],
      [() => callFn(F.linear, x), 'weight'],
      [() => callMethod(x, 'scatterReduce', 0, torch.zeros(1, 4, { dtype: 'int64' }), x), 'reduce'],
      [() => callFn(F.threshold, x, 0.5), 'value'],
      [() => callMethod(x, 'unflatten', 1), 'sizes'],
    ] as const) {
      const e = err(fn);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(new RegExp(`missing required argument '${name}'`));
    }
    // an overloaded op cannot tell which signature was meant: none fits
    const e = err(() => callFn(F.conv2d, img));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/invalid combination of arguments \(Tensor\)/);
  });

  it('a wrong type: TypeError naming the parameter and what was received', () => {
    let e = err(() => x.add('x' as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/expected a Tensor or a number for other but received the string "x"/);
    e = err(() => x.softmax('a' as never));
    expect(e.message).toMatch(/expected an integer for dim but received the string "a"/);
    e = err(() => F.conv2d(img, w, { bias: 5 } as never));
    expect(e).toBeInstanceOf(TypeError);
    e = err(() => F.layerNorm(x, [4], { weight: [1, 2, 3, 4] } as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/weight/);
    e = err(() => x.maskedFill(x.gt(0), { value: 'a' } as never));
    expect(e.message).toMatch(/for value but received the string "a"/);
    e = err(() => F.dropout(x, 0.5, 'yes' as never));
    expect(e.message).toMatch(/expected a boolean for training but received the string "yes"/);
    e = err(() => x.reshape('a' as never));
    expect(e.message).toMatch(/expected an integer for shape\[0\] but received the string "a"/);
    e = err(() => torch.einsum('ij->ji', [x, 'y'] as never));
    expect(e.message).toMatch(/operands\[1\]/);
  });

  it('no signature of an overloaded op fits: TypeError listing the signatures', () => {
    let e = err(() => x.max('a' as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/received an invalid combination of arguments \(string\); expected one of:/);
    expect(e.message).toMatch(/max\(\)\n\s+max\(dim: number, keepdim\?: boolean\)\n\s+max\(other: Tensor\)/);
    e = err(() => x.split('a' as never));
    expect(e.message).toMatch(/split\(splitSizeOrSections: number, dim\?: number\)\n\s+split\(splitSizeOrSections: number\[\], dim\?: number\)/);
    e = err(() => x.norm([1] as never));
    expect(e.message).toMatch(/invalid combination of arguments \(array\)/);
    expect(e.message).toMatch(/norm\(p\?: "fro" \| "nuc"/);
    e = err(() => torch.max(x, 1, 'a' as never));
    expect(e.message).toMatch(/\(Tensor, number, string\); expected one of/);
    e = err(() => x.clamp(torch.zeros(4), 1 as never));
    expect(e.message).toMatch(/invalid combination of arguments/);
  });
});

describe('bad values are RangeErrors', () => {
  it('a non-integer for an int: RangeError with the value', () => {
    for (const fn of [() => x.softmax(1.5), () => x.sum(0.5), () => x.reshape(1.5, 8), () => F.conv2d(img, w, { stride: 1.5 }), () => F.maxPool2d(img, [2, 2.5]), () => x.roll(1, NaN), () => F.glu(x, Infinity)]) {
      const e = err(fn);
      expect(e).toBeInstanceOf(RangeError);
      expect(e.message).toMatch(/expected an integer for \S+ but received (the number )?(1\.5|0\.5|2\.5|NaN|Infinity)/);
    }
  });

  it('an int[N] list of the wrong length: RangeError', () => {
    const e = err(() => F.conv2d(img, w, { stride: [1, 1, 1] }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/an integer or 2 integers for stride but received 3/);
  });

  it('an invalid string choice: RangeError listing the choices', () => {
    let e = err(() => F.mseLoss(x, y, { reduction: 'avg' as never }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/'none', 'mean', 'sum'/);
    e = err(() => torch.cdist(x, y, { computeMode: 'fast' as never }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/'use_mm_for_euclid_dist_if_necessary', 'use_mm_for_euclid_dist', 'donot_use_mm_for_euclid_dist' for computeMode but received the string "fast"/);
    e = err(() => F.interpolate(img, 4, { mode: 'cubic' as never }));
    expect(e.message).toMatch(/'nearest', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area', 'nearest-exact' for mode/);
    e = err(() => F.pad(x, [1, 1], 'zeros' as never));
    expect(e.message).toMatch(/'constant', 'reflect', 'replicate', 'circular'/);
    e = err(() => x.scatterReduce(0, torch.zeros(1, 4, { dtype: 'int64' }), x, 'max' as never));
    expect(e.message).toMatch(/'sum', 'prod', 'mean', 'amax', 'amin'/);
    e = err(() => x.norm('abc' as never));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/'fro', 'nuc' for p/);
    e = err(() => F.conv2d(img, w, b, 1, 'full' as never));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/'same', 'valid' for padding/);
    e = err(() => x.sum({ dtype: 'float128' as never }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/float32, float64/);
  });
});

describe('values libtorch rejects are TorchErrors with its message and no C++ backtrace', () => {
  const cases: [string, () => unknown, RegExp, string?][] = [
    ['softmax over a missing dim', () => x.softmax(5), /Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)/, 'INDEX_ERROR'],
    ['matmul of mismatched shapes', () => x.matmul(y), /mat1 and mat2 shapes cannot be multiplied \(3x4 and 3x4\)/],
    ['conv2d with the wrong channels', () => F.conv2d(torch.randn(1, 1, 4, 4), torch.randn(1, 2, 2, 2)), /expected input\[1, 1, 4, 4\] to have 2 channels, but got 1 channels instead/],
    ['unflatten with two inferred sizes', () => x.unflatten(1, [-1, -1]), /only one dimension can be inferred/],
    ['unflatten sizes that do not multiply up', () => x.unflatten(1, [3, 3]), /don't multiply up to the size of dim 1 \(4\)/],
    ['interpolate with size and scaleFactor', () => F.interpolate(img, { size: 4, scaleFactor: 2 }), /only one of size or scale_factor should be defined/, 'VALUE_ERROR'],
    ['hardtanh with min above max', () => F.hardtanh(x, 2, 1), /min_val cannot be greater than max_val/, 'VALUE_ERROR'],
    ['einsum with mismatched sizes', () => torch.einsum('ij,jk->ik', x, y), /subscript j has size 3 for operand 1/],
    ['cdist with a negative p', () => torch.cdist(x, y, -1), /cdist only supports non-negative p values/],
    ['scatter out of range', () => x.scatter(0, torch.tensor([[5, 0, 0, 0]]), x), /index 5 is out of bounds for dimension 0 with size 3/],
    ['binary cross entropy outside [0, 1]', () => F.binaryCrossEntropy(x, x.sigmoid()), /all elements of input should be between 0 and 1/],
    ['embedding index out of range', () => F.embedding(torch.tensor([0, 10]), torch.randn(3, 2)), /index out of range in self/, 'INDEX_ERROR'],
    ['pad reflect wider than the input', () => F.pad(torch.randn(1, 2, 3), [5, 5], 'reflect'), /Padding size should be less than the corresponding input dimension/],
    ['groupNorm with indivisible channels', () => F.groupNorm(torch.randn(2, 6, 5), 4), /divisible by num_groups/],
    ['dropout with p outside [0, 1]', () => F.dropout2d(img, 1.5), /dropout probability has to be between 0 and 1, but got 1\.5/, 'VALUE_ERROR'],
    ['tripletMarginLoss with margin 0', () => F.tripletMarginLoss(x, y, x, { margin: 0 }), /margin must be greater than 0, got 0/, 'VALUE_ERROR'],
    ['batchNorm with one value per channel when training', () => F.batchNorm(torch.ones(1, 3), null, null, { training: true }), /Expected more than 1 value per channel when training/, 'VALUE_ERROR'],
  ];
  for (const [label, fn, message, code] of cases) {
    it(label, () => {
      const e = err(fn) as TorchError;
      expect(e).toBeInstanceOf(TorchError);
      expect(e.message).toMatch(message);
      if (code) expect(e.code).toBe(code);
    });
  }

  it('returnIndices on F.maxPool2d is refused with a TypeError naming F.maxPool2dWithIndices', () => {
    const e = err(() => F.maxPool2d(img, 2, { returnIndices: true }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/use F\.maxPool2dWithIndices/);
  });
});
