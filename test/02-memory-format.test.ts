/**
 * Memory formats (PyTorch's torch.memory_format): torch.contiguousFormat / channelsLast / channelsLast3d /
 * preserveFormat, Tensor.contiguous({memoryFormat}), isContiguous(format) and to({memoryFormat}). Strides and
 * contiguity are checked against the project venv's PyTorch; Module.to({memoryFormat}) and a channels-last teacher are
 * in test/05-nn.test.ts.
 */
import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { itWhen, pythonWithTorch, thrown } from './helpers';

describe('memory format: torch.channelsLast, contiguous({memoryFormat}), isContiguous(format), to({memoryFormat})', () => {
  const py = pythonWithTorch();
  // PyTorch's layouts: NCHW row-major strides, and channels-last (NHWC) strides (H·W·C, 1, W·C, C).
  const x = torch.arange(2 * 3 * 4 * 5, { dtype: 'float32' }).reshape(2, 3, 4, 5);

  it('the names are the MemoryFormat strings, as Python names its formats', () => {
    expect([torch.contiguousFormat, torch.channelsLast, torch.channelsLast3d, torch.preserveFormat]).toEqual([
      'contiguousFormat', 'channelsLast', 'channelsLast3d', 'preserveFormat',
    ]);
  });

  itWhen(py !== null, 'needs a Python with torch (the oracle): none found', 'strides and contiguity agree with PyTorch', () => {
    const script = [
      'import torch, json',
      'x = torch.arange(120, dtype=torch.float32).reshape(2, 3, 4, 5)',
      'v = torch.arange(240, dtype=torch.float32).reshape(2, 3, 2, 4, 5)',
      'y = x.contiguous(memory_format=torch.channels_last)',
      'w = v.contiguous(memory_format=torch.channels_last_3d)',
      'print(json.dumps([list(y.stride()), list(y.contiguous().stride()), list(w.stride()), y.is_contiguous(),',
      '  y.is_contiguous(memory_format=torch.channels_last), x.is_contiguous(memory_format=torch.channels_last),',
      '  list(x.to(memory_format=torch.channels_last).stride()), list(y.clone().stride()), list(y.add(1).stride())]))',
    ].join('\n');
    const r = spawnSync(py!, ['-c', script], { encoding: 'utf8' });
    const expected = JSON.parse(r.stdout);
    const v = torch.arange(240, { dtype: 'float32' }).reshape(2, 3, 2, 4, 5);
    const y = x.contiguous({ memoryFormat: torch.channelsLast });
    const w = v.contiguous(torch.channelsLast3d);
    expect([
      y.stride(), y.contiguous().stride(), w.stride(), y.isContiguous(), y.isContiguous(torch.channelsLast),
      x.isContiguous({ memoryFormat: torch.channelsLast }), x.to({ memoryFormat: torch.channelsLast }).stride(),
      y.clone().stride(), y.add(1).stride(),
    ]).toEqual(expected);
  });

  it('relayouts keep every value; to() takes the format with a device or dtype too', () => {
    const y = x.contiguous({ memoryFormat: torch.channelsLast });
    expect(y.stride()).toEqual([60, 1, 15, 3]);
    expect(y.equal(x)).toBe(true);
    expect(y.contiguous().stride()).toEqual([60, 20, 5, 1]);
    const z = x.to('cpu', { memoryFormat: torch.channelsLast });
    expect([z.stride(), z.equal(x)]).toEqual([[60, 1, 15, 3], true]);
    const d = x.to({ dtype: 'float64', memoryFormat: torch.channelsLast });
    expect([d.dtype, d.stride(), d.equal(x.double())]).toEqual(['float64', [60, 1, 15, 3], true]);
    // Already in the format: the same memory, as PyTorch returns self (a write through one shows in the other).
    const y2 = y.clone();
    y2.contiguous(torch.channelsLast).mul_(2);
    expect(y2.equal(x.mul(2))).toBe(true);
    // preserveFormat (to()'s default) keeps the layout.
    expect(y.to({ dtype: 'float64', memoryFormat: torch.preserveFormat }).stride()).toEqual([60, 1, 15, 3]);
  });

  it('bad formats: TypeError/RangeError naming the choices; formats libtorch refuses: TorchError with its message', () => {
    let e = thrown(() => x.contiguous({ memoryFormat: 'channels_last' as never }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/memoryFormat.*'channelsLast'.*torch\.channelsLast.*the string "channels_last"/);
    e = thrown(() => x.to({ memoryFormat: 1 as never }));
    expect(e).toBeInstanceOf(TypeError);
    expect(thrown(() => x.isContiguous('nchw' as never))).toBeInstanceOf(RangeError);
    e = thrown(() => torch.zeros(2, 3, 4).contiguous(torch.channelsLast));
    expect(e).toBeInstanceOf(torch.TorchError);
    expect(e.message).toMatch(/rank 4/);
    expect(e.message).not.toMatch(/Exception raised from|frame #/);
    // (Python raises it too, for a tensor that is not already contiguous.)
    e = thrown(() => x.transpose(2, 3).contiguous(torch.preserveFormat));
    expect(e).toBeInstanceOf(torch.TorchError);
    expect(e.message).toMatch(/preserve memory format is unsupported/);
  });
});
