/**
 * Tensor creation against PyTorch: torch.tensor from nested arrays and typed arrays, the factory functions, and
 * the seeded random factories (same seed → the same numbers as Python's torch.manual_seed, to the bit), the generator
 * state (getRngState / setRngState), and the global switches PyTorch reports: deterministic algorithms (under which
 * torch.empty fills new memory) and the float32 matmul precision.
 * Fixtures: scripts/fixtures/gen_tensor_creation.py → test/fixtures/tensor_creation.json.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import type { DType, Tensor } from '../lib/index';
import { expectTensor, fixture, fromJson, itWhen, liveFixture, pythonWithTorch, type TensorJson } from './helpers';

interface CreationFixture extends Record<string, unknown> {
  printing: Record<string, { tensor: TensorJson; str: string }>;
  mixed_seed123: TensorJson[];
  rng_state: Record<'seed7' | 'randn5' | 'after_randn5' | 'restored_randn5' | 'rand3_from_after', TensorJson>;
  switches: {
    deterministic_default: [boolean, boolean];
    deterministic_on: [boolean, boolean];
    deterministic_warn_only: [boolean, boolean];
    deterministic_off: [boolean, boolean];
    empty: Record<'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool', TensorJson>;
    empty_like: TensorJson;
    matmul_precision: string[];
  };
}
const fx = fixture<CreationFixture>('tensor_creation');
const T = (name: string): TensorJson => fx[name] as TensorJson;

describe('torch.tensor from nested arrays', () => {
  it('infers float32 for numbers with fractions, int64 for integers and bool for booleans', () => {
    expectTensor(torch.tensor([[1.5, -2], [3, 4.25]]), T('nested_float'));
    expectTensor(torch.tensor([[1, -2, 3], [4, 5, -6]]), T('nested_int'));
    expectTensor(torch.tensor([[true, false], [false, true]]), T('nested_bool'));
    // JS has no 1.0 distinct from 1: all-integer data is int64 unless a dtype is given (Python's [1.0, 2] is float).
    expectTensor(torch.tensor([[[1.0, 2], [3, 4]], [[5, 6], [7, 8]]], { dtype: 'float32' }), T('nested_3d'));
    expect(torch.tensor([1.0, 2]).dtype).toBe('int64');
  });

  it('honours an explicit dtype, converting as PyTorch does (float→int truncates)', () => {
    expectTensor(torch.tensor([[0.1, 0.2], [0.3, 0.4]], { dtype: 'float64' }), T('nested_as_float64'));
    expectTensor(torch.tensor([1, 2, 3], { dtype: 'float32' }), T('nested_int_as_float32'));
    expectTensor(torch.tensor([1.7, -2.7, 3.2], { dtype: 'int32' }), T('nested_float_as_int32'));
  });

  it('makes 0-d tensors from plain numbers', () => {
    expectTensor(torch.tensor(2.5), T('scalar_float'));
    expectTensor(torch.tensor(7), T('scalar_int'));
    expect(torch.tensor(7).ndim).toBe(0);
    expect(torch.tensor(true).dtype).toBe('bool');
  });

  it('rounds doubles to float32 exactly as PyTorch (subnormals, extremes, negative zero)', () => {
    const t = torch.tensor([0.1, 1 / 3, 1e-40, 3.4e38, -0.0]);
    expectTensor(t, T('rounding_float32'));
    expect(Object.is((t.data() as Float32Array)[4], -0)).toBe(true);
  });

  it('keeps large integers exact in int64 (up to 2^53 from numbers)', () => {
    expectTensor(torch.tensor([2 ** 53, -(2 ** 40), 123456789012]), T('big_int64'));
  });

  it('reshapes flat data with the shape option', () => {
    expectTensor(torch.tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3], dtype: 'float32' }), T('with_shape'));
    expectTensor(torch.tensor([1.5, 2, 3, 4, 5, 6], { shape: [2, 3] }), { ...T('with_shape'), data: [1.5, 2, 3, 4, 5, 6] });
  });

  it('rejects values an integer dtype cannot hold (NaN, ±Infinity, out of range) with a RangeError, as PyTorch', () => {
    // Python: torch.tensor([nan], dtype=torch.int64) → RuntimeError "value cannot be converted to type int64 without overflow"
    expect(() => torch.tensor([1, NaN], { dtype: 'int64' })).toThrow(/NaN .*cannot be converted to int64 without overflow/);
    expect(() => torch.tensor([Infinity], { dtype: 'int32' })).toThrow(RangeError);
    expect(() => torch.tensor([1e20], { dtype: 'int64' })).toThrow(RangeError);
    expect(() => torch.tensor([2 ** 31], { dtype: 'int32' })).toThrow(RangeError);
    expect(() => torch.tensor([300], { dtype: 'uint8' })).toThrow(RangeError);
    expect(() => torch.tensor([-128.5], { dtype: 'int8' })).toThrow(RangeError);
    expect(() => torch.tensor(new Float32Array([NaN]), { dtype: 'int64' })).toThrow(RangeError);
    // Still allowed, as in Python: truncation toward zero, whole negatives wrapping into uint8, NaN to bool/float.
    expect(torch.tensor([1.7, -2.7], { dtype: 'int32' }).toArray()).toEqual([1, -2]);
    expect(torch.tensor([-1], { dtype: 'uint8' }).toArray()).toEqual([255]);
    expect(torch.tensor([NaN], { dtype: 'bool' }).toArray()).toEqual([true]);
    expect(torch.tensor([-(2 ** 63)]).toArray()).toEqual([-(2 ** 63)]);
  });

  it('makes an empty float32 tensor from []', () => {
    expectTensor(torch.tensor([]), T('empty'));
  });

  it('sets requiresGrad and device from the options', () => {
    const t = torch.tensor([1.5, 2], { requiresGrad: true, device: 'cpu' });
    expect(t.requiresGrad).toBe(true);
    expect(t.isLeaf).toBe(true);
    expect(t.device).toBe('cpu');
  });
});

describe('torch.tensor from typed arrays', () => {
  it('maps every typed array to its dtype', () => {
    expectTensor(torch.tensor(new Float32Array([0.1, -2.5, 3e-8])), T('typed_float32'));
    expectTensor(torch.tensor(new Float64Array([0.1, -2.5, 3e-8])), T('typed_float64'));
    expectTensor(torch.tensor(new Int32Array([-2147483648, 0, 2147483647])), T('typed_int32'));
    expectTensor(torch.tensor(new Int16Array([-32768, 1, 32767])), T('typed_int16'));
    expectTensor(torch.tensor(new Int8Array([-128, 1, 127])), T('typed_int8'));
    expectTensor(torch.tensor(new Uint8Array([0, 128, 255])), T('typed_uint8'));
  });

  it('round-trips int64 through BigInt64Array without losing bits beyond 2^53', () => {
    const big = new BigInt64Array([-(2n ** 62n), 0n, 2n ** 62n + 1n]);
    const t = torch.tensor(big);
    expect(t.dtype).toBe('int64');
    const back = t.data();
    expect(back).toBeInstanceOf(BigInt64Array);
    expect(Array.from(back as BigInt64Array)).toEqual([-(2n ** 62n), 0n, 2n ** 62n + 1n]);
    // The fixture's JSON numbers are doubles, so compare the exactly representable neighbours.
    expect(fx.typed_int64).toMatchObject({ dtype: 'int64', shape: [3] });
  });

  it('copies the typed array (later writes to the array do not change the tensor)', () => {
    const src = new Float32Array([1, 2, 3]);
    const t = torch.tensor(src);
    src[0] = 100;
    expect(Array.from(t.data() as Float32Array)).toEqual([1, 2, 3]);
  });

  it('converts a typed array to an explicit dtype and shape', () => {
    const t = torch.tensor(new Int32Array([1, 2, 3, 4, 5, 6]), { dtype: 'float32', shape: [2, 3] });
    expectTensor(t.sub(torch.tensor([[0, 0, 0], [0, 0, 0]], { dtype: 'float32' })), T('with_shape'));
  });

  it('makes the unsigned and clamped arrays PyTorch-compatible dtypes', () => {
    expect(torch.tensor(new Uint8ClampedArray([1, 255])).dtype).toBe('uint8');
    expect(torch.tensor(new Uint16Array([1, 65535])).dtype).toBe('int32');
    expect(torch.tensor(new Uint32Array([1, 4294967295])).toArray()).toEqual([1, 4294967295]);
  });
});

describe('factory functions', () => {
  it('zeros, ones and empty accept the shape as an array or as numbers', () => {
    expectTensor(torch.zeros(2, 3), T('zeros_2x3'));
    expectTensor(torch.zeros([2, 3]), T('zeros_2x3'));
    expectTensor(torch.ones(2, 3, { dtype: 'float64' }), T('ones_2x3_float64'));
    expectTensor(torch.ones([2, 3], { dtype: 'float64' }), T('ones_2x3_float64'));
    expectTensor(torch.ones(4, { dtype: 'int64' }), T('ones_int64'));
    expect(torch.empty(2, 5).shape).toEqual([2, 5]);
    expect(torch.empty([3], { dtype: 'int32' }).dtype).toBe('int32');
    expect(torch.zeros([]).shape).toEqual([]);
  });

  it('full infers int64, float32 or bool from the value, as PyTorch', () => {
    expectTensor(torch.full([2, 2], 7), T('full_int'));
    expectTensor(torch.full([2, 2], 2.5), T('full_float'));
    expectTensor(torch.full([3], true), T('full_bool'));
    expectTensor(torch.full([2], -1.25, { dtype: 'float64' }), T('full_float64'));
  });

  it('eye makes square and rectangular identities', () => {
    expectTensor(torch.eye(3), T('eye_3'));
    expectTensor(torch.eye(2, 4), T('eye_2x4'));
    expectTensor(torch.eye(3, { dtype: 'int64' }), T('eye_3_int64'));
  });

  it('arange gives int64 for integer bounds and float32 otherwise, with PyTorch lengths', () => {
    expectTensor(torch.arange(5), T('arange_5'));
    expectTensor(torch.arange(2, 7), T('arange_2_7'));
    expectTensor(torch.arange(10, 0, -3), T('arange_10_0_m3'));
    expectTensor(torch.arange(0, 1, 0.25), T('arange_0_1_p25'));
    expectTensor(torch.arange(0, 1, 0.1), T('arange_0_1_p1'));
    expectTensor(torch.arange(0, 2, 0.3, { dtype: 'float64' }), T('arange_float64'));
    expectTensor(torch.arange(4, { dtype: 'float32' }), T('arange_int_as_float32'));
  });

  it('linspace matches PyTorch to the bit', () => {
    expectTensor(torch.linspace(0, 1, 5), T('linspace_0_1_5'));
    expectTensor(torch.linspace(-1, 1, 7), T('linspace_m1_1_7'));
    expectTensor(torch.linspace(0, 1, 11), T('linspace_0_1_11'));
    expectTensor(torch.linspace(-3, 7, 9, { dtype: 'float64' }), T('linspace_float64'));
    expectTensor(torch.linspace(2, 5, 1), T('linspace_one'));
  });

  it('factories accept requiresGrad', () => {
    expect(torch.zeros(2, { requiresGrad: true }).requiresGrad).toBe(true);
    expect(torch.randn([2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(torch.ones(2).requiresGrad).toBe(false);
  });

  it('*Like factories copy shape, dtype and device', () => {
    const base = torch.ones([2, 3], { dtype: 'float64' });
    for (const t of [torch.zerosLike(base), torch.onesLike(base), torch.fullLike(base, 4), torch.randnLike(base), torch.randLike(base), torch.emptyLike(base)]) {
      expect(t.shape).toEqual([2, 3]);
      expect(t.dtype).toBe('float64');
    }
    expect(torch.zerosLike(base, { dtype: 'int64' }).dtype).toBe('int64');
  });
});

describe('manualSeed: the same numbers as Python torch.manual_seed', () => {
  it('randn (scalar path and vectorised path) and its continuation', () => {
    torch.manualSeed(0);
    expectTensor(torch.randn(3, 4), T('randn_seed0_3x4'));
    expectTensor(torch.randn(5), T('randn_seed0_then'));
    torch.manualSeed(42);
    expectTensor(torch.randn(40), T('randn_seed42_40'));
    torch.manualSeed(42);
    expectTensor(torch.randn([5]), T('randn_seed42_5'));
    torch.manualSeed(1);
    expectTensor(torch.randn([2, 10], { dtype: 'float64' }), T('randn_seed1_float64'));
  });

  it('rand', () => {
    torch.manualSeed(0);
    expectTensor(torch.rand(2, 5), T('rand_seed0_2x5'));
    torch.manualSeed(3);
    expectTensor(torch.rand(30), T('rand_seed3_30'));
    torch.manualSeed(3);
    expectTensor(torch.rand([6], { dtype: 'float64' }), T('rand_seed3_float64'));
  });

  it('randint (high only, low and high, and a range beyond 2^32)', () => {
    torch.manualSeed(0);
    expectTensor(torch.randint(10, [12]), T('randint_seed0_10'));
    torch.manualSeed(5);
    expectTensor(torch.randint(-5, 5, [3, 4]), T('randint_seed5_m5_5'));
    torch.manualSeed(5);
    expectTensor(torch.randint(0, 2 ** 40, [6]), T('randint_seed5_big'));
  });

  it('randperm', () => {
    torch.manualSeed(0);
    expectTensor(torch.randperm(8), T('randperm_seed0_8'));
    torch.manualSeed(9);
    expectTensor(torch.randperm(20), T('randperm_seed9_20'));
  });

  it('a mixed sequence of random calls draws from one generator in order', () => {
    torch.manualSeed(123);
    const got = [torch.randn(4), torch.rand(3), torch.randint(0, 100, [5]), torch.randperm(6), torch.randn(2, 2)];
    got.forEach((t, i) => expectTensor(t, fx.mixed_seed123[i]));
  });

  it('accepts a bigint seed and reports it through initialSeed', () => {
    torch.manualSeed(12345n);
    expect(torch.initialSeed()).toBe(12345);
    torch.manualSeed(0);
    const a = torch.randn(3).toArray();
    torch.manualSeed(0n);
    expect(torch.randn(3).toArray()).toEqual(a);
  });
});

describe('the generator state: torch.get_rng_state / set_rng_state', () => {
  it('is the bytes PyTorch reports after the same seed and draws; restoring it repeats the draws', () => {
    const f = fx.rng_state;
    torch.manualSeed(7);
    const seed7 = torch.getRngState();
    expectTensor(seed7, f.seed7);
    expectTensor(torch.randn(5), f.randn5);
    expectTensor(torch.getRngState(), f.after_randn5);
    torch.setRngState(seed7);
    expectTensor(torch.randn(5), f.restored_randn5);
    torch.randn(40);
    // a state PyTorch made continues PyTorch's stream
    torch.setRngState(fromJson(f.after_randn5));
    expectTensor(torch.rand(3), f.rand3_from_after);
  });
});

describe('global switches as PyTorch reports them', () => {
  const flags = (): boolean[] => [torch.areDeterministicAlgorithmsEnabled(), torch.isDeterministicAlgorithmsWarnOnlyEnabled()];

  it('useDeterministicAlgorithms: the flags, and torch.empty filled (NaN, or the largest integer) while it is on', () => {
    const f = fx.switches;
    expect(flags()).toEqual(f.deterministic_default);
    try {
      torch.useDeterministicAlgorithms(true);
      expect(flags()).toEqual(f.deterministic_on);
      for (const [dtype, expected] of Object.entries(f.empty)) expectTensor(torch.empty([2, 3], { dtype: dtype as DType }), expected);
      expectTensor(torch.emptyLike(torch.ones([4], { dtype: 'float64' })), f.empty_like);
      torch.useDeterministicAlgorithms(true, { warnOnly: true });
      expect(flags()).toEqual(f.deterministic_warn_only);
    } finally {
      torch.useDeterministicAlgorithms(false);
    }
    expect(flags()).toEqual(f.deterministic_off);
  });

  it('setFloat32MatmulPrecision / getFloat32MatmulPrecision', () => {
    const seen = [torch.getFloat32MatmulPrecision()];
    try {
      for (const p of ['medium', 'high', 'highest'] as const) {
        torch.setFloat32MatmulPrecision(p);
        seen.push(torch.getFloat32MatmulPrecision());
      }
    } finally {
      torch.setFloat32MatmulPrecision('highest');
    }
    expect(seen).toEqual(fx.switches.matmul_precision);
  });
});

describe('toString', () => {
  // PyTorch's own formatting: fixed-point with 4 decimals, integer mode, scientific mode, aligned columns, 80-column
  // wrapping, dtype/size/requires_grad suffixes.
  for (const [name, c] of Object.entries(fx.printing)) {
    it(`prints ${name} as Python's str(tensor)`, () => {
      const t: Tensor = fromJson(c.tensor, { requiresGrad: name === 'requires_grad' });
      expect(t.toString()).toBe(c.str);
    });
  }
});

describe('toString of int64 beyond 2^53', () => {
  it('prints the exact integers, aligned as Python', () => {
    // Python: str(torch.tensor([2**62 + 1, -5]))
    expect(torch.tensor(new BigInt64Array([2n ** 62n + 1n, -5n])).toString()).toBe('tensor([4611686018427387905,                  -5])');
  });
});

describe('live parity', () => {
  const py = pythonWithTorch();
  it.skipIf(py === null)('the committed tensor_creation fixture is what the current PyTorch produces', () => {
    const live = liveFixture<CreationFixture>('gen_tensor_creation.py');
    expect(live).toEqual(fx);
  });
});

describe('dtype names: torch.float32, torch.long, ...', () => {
  // Each names the dtype Python's torch.<name> is (str(torch.float) == 'torch.float32').
  const NAMES: [string, DType][] = [
    ['float32', 'float32'], ['float64', 'float64'], ['float16', 'float16'], ['bfloat16', 'bfloat16'],
    ['int64', 'int64'], ['int32', 'int32'], ['int16', 'int16'], ['int8', 'int8'], ['uint8', 'uint8'], ['bool', 'bool'],
    ['float', 'float32'], ['double', 'float64'], ['half', 'float16'], ['long', 'int64'], ['int', 'int32'], ['short', 'int16'],
  ];
  const byName = torch as unknown as Record<string, DType>;

  const py = pythonWithTorch();

  it('are the DType strings of those names', () => {
    expect(NAMES.map(([n]) => [n, byName[n]])).toEqual(NAMES);
    const values = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool];
    expect(values).toEqual(['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']);
    const aliases = [torch.float, torch.double, torch.half, torch.long, torch.int, torch.short];
    expect(aliases).toEqual(['float32', 'float64', 'float16', 'int64', 'int32', 'int16']);
  });

  itWhen(py !== null, 'needs a Python with torch (the oracle): none found', 'are the dtypes PyTorch gives those names', () => {
    const r = spawnSync(py!, ['-c', `import torch; print(' '.join(str(getattr(torch, n)).removeprefix('torch.') for n in ${JSON.stringify(NAMES.map(([n]) => n))}))`], { encoding: 'utf8' });
    expect(r.stdout.trim().split(' ')).toEqual(NAMES.map(([, d]) => d));
  });

  it('make tensors of that dtype, as options are written in PyTorch', () => {
    expect(torch.zeros([2], { dtype: torch.float64 }).dtype).toBe('float64');
    expect(torch.ones([2], { dtype: torch.long }).dtype).toBe('int64');
    expect(torch.randn([2], { dtype: torch.double }).dtype).toBe('float64');
    const w = torch.tensor([[1, 2], [3, 4]], { dtype: torch.float32, requiresGrad: true });
    expect([w.dtype, w.requiresGrad]).toEqual(['float32', true]);
    expect(torch.arange(3).to(torch.half).dtype).toBe('float16');
    expect(torch.tensor([1, 0]).to(torch.bool).tolist()).toEqual([true, false]);
  });
});
