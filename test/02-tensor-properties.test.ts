/**
 * Tensor properties and conversion: shape, dtype, device, ndim, numel, requiresGrad, grad, item, toArray, data,
 * dataView, to(), cpu/float/double/long, contiguous, clone, detach. Conversions are checked against PyTorch
 * (test/fixtures/tensor_creation.json, `conversions`).
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { HAS_CUDA, NEEDS_NO_CUDA, expectTensor, fixture, fromJson, itWhen, type TensorJson } from './helpers';

const conv = fixture<{ conversions: Record<string, TensorJson> }>('tensor_creation').conversions;

describe('properties', () => {
  it('shape, dtype, device, ndim, dim(), numel(), size()', () => {
    const t = torch.zeros([2, 3, 4], { dtype: 'float64' });
    expect(t.shape).toEqual([2, 3, 4]);
    expect(t.dtype).toBe('float64');
    expect(t.device).toBe('cpu');
    expect(t.ndim).toBe(3);
    expect(t.dim()).toBe(3);
    expect(t.numel()).toBe(24);
    expect(t.size()).toEqual([2, 3, 4]);
    expect(t.size(-1)).toBe(4);
    expect(torch.tensor(5).shape).toEqual([]);
    expect(torch.tensor(5).numel()).toBe(1);
  });

  it('shape is a fresh array each time (mutating it does not change the tensor)', () => {
    const t = torch.zeros(2, 3);
    const s = t.shape;
    s[0] = 99;
    expect(t.shape).toEqual([2, 3]);
  });

  it('requiresGrad can be read and set; requiresGrad_() returns the tensor', () => {
    const t = torch.ones(2);
    expect(t.requiresGrad).toBe(false);
    t.requiresGrad = true;
    expect(t.requiresGrad).toBe(true);
    const u = torch.ones(2);
    expect(u.requiresGrad_()).toBe(u);
    expect(u.requiresGrad).toBe(true);
    expect(u.requiresGrad_(false).requiresGrad).toBe(false);
  });

  it('grad is null until backward, then a tensor; it can be set to null or to a tensor', () => {
    const x = torch.tensor([1.0, 2.5], { requiresGrad: true });
    expect(x.grad).toBeNull();
    x.mul(x).sum().backward();
    expect(x.grad!.toArray()).toEqual([2, 5]);
    x.grad = null;
    expect(x.grad).toBeNull();
    x.grad = torch.tensor([0.5, 0.5]);
    expect(x.grad!.toArray()).toEqual([0.5, 0.5]);
  });

  it('isLeaf and gradFn describe the autograd graph', () => {
    const x = torch.ones(2, { requiresGrad: true });
    const y = x.mul(2);
    expect(x.isLeaf).toBe(true);
    expect(x.gradFn).toBeNull();
    expect(y.isLeaf).toBe(false);
    expect(y.gradFn).toMatch(/^MulBackward\d$/);
  });
});

describe('values out', () => {
  it('item() gives a number (int64 as a number, bool as a boolean)', () => {
    expect(torch.tensor(2.5).item()).toBe(2.5);
    expect(torch.tensor([[7]]).item()).toBe(7);
    expect(torch.tensor(true).item()).toBe(true);
    expect(torch.tensor(0.1).item()).toBe(Math.fround(0.1));
    expect(torch.tensor(0.1, { dtype: 'float64' }).item()).toBe(0.1);
  });

  it('item() of a tensor with several elements throws a RangeError that gives the count', () => {
    expect(() => torch.ones(2).item()).toThrow(RangeError);
    expect(() => torch.ones(2).item()).toThrow(/2 elements/);
  });

  it('toArray() nests like tolist(), with booleans for bool tensors', () => {
    expect(torch.tensor([[1, 2], [3, 4]]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(torch.tensor([[true], [false]]).toArray()).toEqual([[true], [false]]);
    expect(torch.tensor(1.5).toArray()).toBe(1.5);
    expect(torch.zeros(2, 0).toArray()).toEqual([[], []]);
    expect(torch.arange(6).reshape(2, 3).t().toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
  });

  it('data() is a typed-array copy of the right class, in logical (row-major) order', () => {
    expect(torch.ones(2).data()).toBeInstanceOf(Float32Array);
    expect(torch.ones(2, { dtype: 'float64' }).data()).toBeInstanceOf(Float64Array);
    expect(torch.ones(2, { dtype: 'int64' }).data()).toBeInstanceOf(BigInt64Array);
    expect(torch.ones(2, { dtype: 'int32' }).data()).toBeInstanceOf(Int32Array);
    expect(torch.ones(2, { dtype: 'bool' }).data()).toBeInstanceOf(Uint8Array);
    expect(torch.ones(2, { dtype: 'uint8' }).data()).toBeInstanceOf(Uint8Array);
    expect(torch.ones(2, { dtype: 'float16' }).data()).toBeInstanceOf(Float32Array);
    const t = torch.arange(6, { dtype: 'float32' }).reshape(2, 3).t();
    expect(Array.from(t.data() as Float32Array)).toEqual([0, 3, 1, 4, 2, 5]);
    const d = t.data() as Float32Array;
    d[0] = 100;
    expect(t.select(0, 0).select(0, 0).item()).toBe(0);
  });

  it('dataView() is zero-copy: writes through it change the tensor, and it outlives the tensor handle', () => {
    const t = torch.zeros(4);
    const v = t.dataView() as Float32Array;
    v[2] = 7;
    expect(t.toArray()).toEqual([0, 0, 7, 0]);
    t.fill_(1);
    expect(Array.from(v)).toEqual([1, 1, 1, 1]);
    t.dispose();
    expect(Array.from(v)).toEqual([1, 1, 1, 1]);
  });

  it('dataView() of a non-contiguous tensor throws a TypeError that points to data()', () => {
    expect(() => torch.ones(3, 2).t().dataView()).toThrow(/data\(\)/);
  });
});

describe('conversion', () => {
  const src = (): ReturnType<typeof fromJson> => fromJson(conv.source);

  it('to(dtype) converts as PyTorch (rounding, truncation toward zero, bool)', () => {
    expectTensor(src().to('float64'), conv.float64);
    expectTensor(src().to('float16'), conv.float16);
    expectTensor(src().to('bfloat16'), conv.bfloat16);
    expectTensor(src().to('int64'), conv.int64);
    expectTensor(src().to('int32'), conv.int32);
    expectTensor(src().to('bool'), conv.bool);
    expectTensor(fromJson({ ...conv.float64_to_float32, dtype: 'float64', data: [0.1, 1 / 3, 1e-50, 1e300] }).float(), conv.float64_to_float32);
  });

  it('float(), double(), long(), half(), int(), bool() are to(dtype)', () => {
    expectTensor(src().double(), conv.float64);
    expectTensor(src().long(), conv.int64);
    expectTensor(src().half(), conv.float16);
    expectTensor(src().int(), conv.int32);
    expectTensor(src().bool(), conv.bool);
    expect(torch.tensor([1, 2]).float().dtype).toBe('float32');
    expect(src().bfloat16().dtype).toBe('bfloat16');
  });

  it("accepts PyTorch's dtype aliases ('float', 'double', 'long', 'half')", () => {
    expect(torch.ones(1).to('double' as never).dtype).toBe('float64');
    expect(torch.ones(1).to('long' as never).dtype).toBe('int64');
  });

  it('to(device), to({device, dtype}) and cpu()', () => {
    const t = torch.tensor([1.5, 2]);
    expect(t.to('cpu').device).toBe('cpu');
    const u = t.to({ device: 'cpu', dtype: 'float64' });
    expect(u.dtype).toBe('float64');
    expect(u.toArray()).toEqual([1.5, 2]);
    expect(t.cpu().device).toBe('cpu');
  });

  it('to() with nothing to change returns the same storage; copy: true copies', () => {
    const t = torch.zeros(2);
    const same = t.to('float32');
    same.fill_(3);
    expect(t.toArray()).toEqual([3, 3]);
    const copy = t.to({ dtype: 'float32', copy: true });
    copy.fill_(4);
    expect(t.toArray()).toEqual([3, 3]);
  });

  it('clone() copies values (and stays in the graph); detach() shares storage outside the graph', () => {
    const x = torch.tensor([1.0, 2.5], { requiresGrad: true });
    const c = x.clone();
    expect(c.requiresGrad).toBe(true);
    expect(c.gradFn).toMatch(/CloneBackward/);
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    d.fill_(9);
    expect(x.toArray()).toEqual([9, 9]);
    expect(c.toArray()).toEqual([1, 2.5]);
  });

  it('contiguous() of a contiguous tensor is the same storage', () => {
    const t = torch.zeros(3);
    t.contiguous().fill_(2);
    expect(t.toArray()).toEqual([2, 2, 2]);
  });

  itWhen(!HAS_CUDA, NEEDS_NO_CUDA, "cuda() and to('cuda') without a GPU throw TorchError CUDA_UNAVAILABLE", () => {
    expect(() => torch.ones(2).cuda()).toThrow(expect.objectContaining({ name: 'TorchError', code: 'CUDA_UNAVAILABLE' }));
    expect(() => torch.ones(2).to('cuda:0')).toThrow(/no CUDA device is available/);
  });
});

describe('toString', () => {
  it('is used by template strings and String()', () => {
    const t = torch.tensor([1, 2]);
    expect(`${t}`).toBe('tensor([1, 2])');
    expect(String(torch.ones(2, { requiresGrad: true }).mul(2))).toMatch(/^tensor\(\[2\., 2\.\], grad_fn=<MulBackward\d>\)$/);
  });

  it('prints a disposed tensor without throwing', () => {
    const t = torch.ones(2);
    t.dispose();
    expect(t.toString()).toBe('tensor(<disposed>)');
  });

  it('summarises tensors over 1000 elements as PyTorch does (first and last 3 per long dim)', () => {
    const t = torch.arange(0, 1200, { dtype: 'float32' }).reshape(40, 30);
    // str(torch.arange(0, 1200, dtype=torch.float32).reshape(40, 30)) in PyTorch 2.13.
    expect(t.toString()).toBe(
      [
        'tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 2.7000e+01, 2.8000e+01,',
        '         2.9000e+01],',
        '        [3.0000e+01, 3.1000e+01, 3.2000e+01,  ..., 5.7000e+01, 5.8000e+01,',
        '         5.9000e+01],',
        '        [6.0000e+01, 6.1000e+01, 6.2000e+01,  ..., 8.7000e+01, 8.8000e+01,',
        '         8.9000e+01],',
        '        ...,',
        '        [1.1100e+03, 1.1110e+03, 1.1120e+03,  ..., 1.1370e+03, 1.1380e+03,',
        '         1.1390e+03],',
        '        [1.1400e+03, 1.1410e+03, 1.1420e+03,  ..., 1.1670e+03, 1.1680e+03,',
        '         1.1690e+03],',
        '        [1.1700e+03, 1.1710e+03, 1.1720e+03,  ..., 1.1970e+03, 1.1980e+03,',
        '         1.1990e+03]])',
      ].join('\n'),
    );
  });
});
