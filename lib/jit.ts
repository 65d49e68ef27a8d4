/**
 * torch.jit: load a TorchScript module (saved by Python's `torch.jit.save`) as a trainable torchkd Module, and
 * save it back.
 *
 * @example
 * const net = torch.jit.load('model.ts.pt');
 * const opt = new torch.optim.SGD(net.parameters(), { lr: 0.1 });
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { native } from './binding';
import { Device, describe, deviceCode } from './dtype';
import { TorchError } from './errors';
import { Module, Parameter, type StateDict } from './nn/module';
import { type Tensor, wrap } from './tensor';

const N = native();

/**
 * A TorchScript module: forward runs the scripted graph natively; parameters and buffers (dotted names, as in its
 * Python state_dict) are trainable tensors shared with the script.
 */
export class ScriptModule extends Module<Tensor[], Tensor> {
  /** State-dict order (module by module: parameters, then buffers), as Python's state_dict() of the script. */
  private readonly _order: string[] = [];

  /** @internal */
  constructor(handle: number) {
    super();
    this._setNative(handle);
    for (const [name, h, isBuffer] of N.moduleState(handle)) {
      const t = wrap(h);
      if (isBuffer) this._buffers.set(name, t);
      else this._parameters.set(name, t.requiresGrad ? Parameter(t, true) : t);
      this._order.push(name);
    }
    this.training = N.moduleTraining(handle);
  }

  /** Parameters and buffers by dotted name, in the order Python's `state_dict()` gives for this script. */
  override stateDict(): StateDict {
    const out: StateDict = {};
    for (const name of this._order) {
      const t = this._parameters.get(name) ?? this._buffers.get(name);
      if (t) out[name] = t.detach();
    }
    return out;
  }

  /** Saves as TorchScript (atomically: a temporary file renamed over the target). */
  save(file: string): void {
    if (typeof file !== 'string' || file === '') throw new TypeError(`save expects a file path but received ${describe(file)}`);
    const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`);
    try {
      N.jitSave(this._native as number, file, tmp);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
}

/** Loads a TorchScript file; `device` maps its tensors (default: where they were saved). */
export function load(file: string, options: { device?: Device } = {}): ScriptModule {
  if (typeof file !== 'string' || file === '') throw new TypeError(`torch.jit.load expects a file path but received ${describe(file)}`);
  if (!fs.existsSync(file)) throw new TorchError(`torch.jit.load: no such file ${file}`, 'VALUE_ERROR');
  return new ScriptModule(N.jitLoad(file, options.device === undefined ? -2 : deviceCode(options.device)));
}
