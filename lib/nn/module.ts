/**
 * torch.nn.Module: the base class of layers and models.
 *
 * Built-in layers are backed by libtorch C++-frontend modules (their forward runs natively, and a Sequential of
 * native layers runs in one native call); user modules subclass Module in TypeScript and register parameters,
 * buffers and submodules as PyTorch does (assigning a Module or a {@link Parameter}-flagged tensor to a property
 * registers it, in assignment order, so names match Python's `state_dict()` keys).
 *
 * @example
 * class Net extends nn.Module {
 *   fc1 = new nn.Linear(784, 100);
 *   fc2 = new nn.Linear(100, 10);
 *   forward(x: Tensor) { return this.fc2.forward(this.fc1.forward(x).relu()); }
 * }
 */
import { native } from '../binding';
import { DType, Device, describe, deviceCode, dtypeCode, isFloatingPoint } from '../dtype';
import { TorchError } from '../errors';
import { Tensor, handleOf, int, wrap } from '../tensor';

const N = native();

/** What `stateDict()` returns: dotted names to tensors, in registration order. */
export type StateDict = Record<string, Tensor>;

/** The result of `loadStateDict` (PyTorch's `_IncompatibleKeys`). */
export interface IncompatibleKeys {
  missingKeys: string[];
  unexpectedKeys: string[];
}

const PARAMETER = Symbol('torchkd.parameter');

/**
 * Marks a tensor as a parameter (PyTorch's nn.Parameter): it requires grad and is registered by Module when
 * assigned to a property. Returns the same tensor.
 */
export function Parameter(t: Tensor, requiresGrad = true): Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`Parameter() expects a Tensor but received ${describe(t)}`);
  t.requiresGrad = requiresGrad;
  (t as unknown as Record<symbol, boolean>)[PARAMETER] = true;
  return t;
}

function isParameter(t: Tensor): boolean {
  return (t as unknown as Record<symbol, boolean>)[PARAMETER] === true;
}

// Native module handles are freed when their Module wrapper is collected.
const moduleRegistry = new FinalizationRegistry<number>((h) => N.releaseModule(h));

/** Base class for all neural network modules. */
export class Module {
  /** @internal */ _parameters = new Map<string, Tensor | null>();
  /** @internal */ _buffers = new Map<string, Tensor | null>();
  /** @internal */ _modules = new Map<string, Module>();
  /** @internal */ _native: number | null = null;
  /** @internal */ _nonPersistent = new Set<string>();
  /** True in training mode (the default), false after `eval()`. */
  training = true;

  constructor() {
    // Assigning Modules and Parameter tensors to properties registers them (like nn.Module.__setattr__); class
    // fields arrive through defineProperty, assignments through set.
    const register = (target: Module, prop: string | symbol, value: unknown): void => {
      if (typeof prop !== 'string' || prop.startsWith('_')) return;
      if (value instanceof Module) target._modules.set(prop, value);
      else if (value instanceof Tensor && isParameter(value)) target._parameters.set(prop, value);
      else if (value instanceof Tensor && target._buffers.has(prop)) target._buffers.set(prop, value);
      else if (value instanceof Tensor && target._parameters.has(prop)) target._parameters.set(prop, value);
    };
    return new Proxy(this, {
      set(target, prop, value, receiver) {
        register(target, prop, value);
        return Reflect.set(target, prop, value, receiver);
      },
      defineProperty(target, prop, descriptor) {
        if ('value' in descriptor) register(target, prop, descriptor.value);
        return Reflect.defineProperty(target, prop, descriptor);
      },
    });
  }

  /** Computes the output. Subclasses override this (native layers run in libtorch). */
  forward(...inputs: Tensor[]): Tensor {
    if (this._native !== null) return wrap(N.moduleForward(this._native, inputs.map((t, i) => handleOf(t, `input ${i}`))));
    throw new TypeError(`${this.constructor.name}.forward() is not implemented`);
  }

  /** Calls forward (PyTorch's `module(x)`). */
  call(...inputs: Tensor[]): Tensor {
    return this.forward(...inputs);
  }

  /** @internal The native module handle when the whole forward runs natively, else null. */
  nativeHandle(): number | null {
    return this._native;
  }

  /** @internal Adopt a native module: its own parameters and buffers become this module's. */
  protected _adoptNative(handle: number): void {
    this._setNative(handle);
    for (const [name, h] of N.moduleParameters(handle, false)) this._parameters.set(name, Parameter(wrap(h), true));
    for (const [name, h] of N.moduleBuffers(handle, false)) this._buffers.set(name, wrap(h));
  }

  /** @internal Sets the native handle, freed when this module is collected. */
  protected _setNative(handle: number): void {
    this._native = handle;
    moduleRegistry.register(this, handle);
  }

  /** Registers a submodule under `name` (PyTorch's add_module / register_module). */
  registerModule(name: string, module: Module | null): void {
    if (typeof name !== 'string' || name.includes('.') || name === '') throw new RangeError(`invalid module name ${describe(name)}`);
    if (module === null) this._modules.delete(name);
    else if (!(module instanceof Module)) throw new TypeError(`registerModule expects a Module but received ${describe(module)}`);
    else this._modules.set(name, module);
    (this as unknown as Record<string, unknown>)[name] = module;
  }

  /** Registers a parameter (null keeps the name without a tensor, as PyTorch allows). */
  registerParameter(name: string, param: Tensor | null): void {
    if (typeof name !== 'string' || name.includes('.') || name === '') throw new RangeError(`invalid parameter name ${describe(name)}`);
    if (param !== null) Parameter(param, param.requiresGrad || true);
    this._parameters.set(name, param);
    Object.defineProperty(this, name, { value: param, writable: true, configurable: true, enumerable: true });
  }

  /** Registers a buffer: saved in the state dict (unless persistent is false) but not trained. */
  registerBuffer(name: string, tensor: Tensor | null, options: { persistent?: boolean } = {}): void {
    if (typeof name !== 'string' || name.includes('.') || name === '') throw new RangeError(`invalid buffer name ${describe(name)}`);
    this._buffers.set(name, tensor);
    if (options.persistent === false) this._nonPersistent.add(name);
    Object.defineProperty(this, name, { value: tensor, writable: true, configurable: true, enumerable: true });
  }

  /** Direct children, name first. */
  *namedChildren(): IterableIterator<[string, Module]> {
    yield* this._modules.entries();
  }

  *children(): IterableIterator<Module> {
    for (const [, m] of this._modules) yield m;
  }

  /** This module and all below it, with dotted names ('' for this one). */
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [name, m] of this._modules) yield* m.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  *modules(): IterableIterator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** Parameters with dotted names, in PyTorch's order (own first, then each child's). */
  *namedParameters(prefix = '', recurse = true): IterableIterator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    for (const [modPrefix, m] of recurse ? this.namedModules(prefix) : [[prefix, this] as [string, Module]]) {
      for (const [name, p] of m._parameters) {
        if (p === null || seen.has(p)) continue;
        seen.add(p);
        yield [modPrefix ? `${modPrefix}.${name}` : name, p];
      }
    }
  }

  /** All parameters (each once). */
  parameters(recurse = true): Tensor[] {
    return [...this.namedParameters('', recurse)].map(([, p]) => p);
  }

  *namedBuffers(prefix = '', recurse = true): IterableIterator<[string, Tensor]> {
    for (const [modPrefix, m] of recurse ? this.namedModules(prefix) : [[prefix, this] as [string, Module]]) {
      for (const [name, b] of m._buffers) {
        if (b === null) continue;
        yield [modPrefix ? `${modPrefix}.${name}` : name, b];
      }
    }
  }

  buffers(recurse = true): Tensor[] {
    return [...this.namedBuffers('', recurse)].map(([, b]) => b);
  }

  /**
   * Parameters and persistent buffers by dotted name, in PyTorch's order (per module: parameters, then buffers).
   * The tensors are the module's own (detached views share storage), as in PyTorch.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [modPrefix, m] of this.namedModules()) {
      const key = (n: string): string => (modPrefix ? `${modPrefix}.${n}` : n);
      for (const [name, p] of m._parameters) if (p !== null) out[key(name)] = p.detach();
      for (const [name, b] of m._buffers) if (b !== null && !m._nonPersistent.has(name)) out[key(name)] = b.detach();
    }
    return out;
  }

  /**
   * Copies tensors from a state dict into this module's parameters and buffers (in place, without autograd).
   * With `strict` (default), missing or unexpected keys are an error naming them, as in PyTorch; shape mismatches
   * are always an error.
   */
  loadStateDict(stateDict: Record<string, Tensor>, options: { strict?: boolean } = {}): IncompatibleKeys {
    if (stateDict === null || typeof stateDict !== 'object') throw new TypeError(`loadStateDict expects an object of tensors but received ${describe(stateDict)}`);
    const strict = options.strict ?? true;
    const own = new Map<string, Tensor>();
    for (const [modPrefix, m] of this.namedModules()) {
      const key = (n: string): string => (modPrefix ? `${modPrefix}.${n}` : n);
      for (const [name, p] of m._parameters) if (p !== null) own.set(key(name), p);
      for (const [name, b] of m._buffers) if (b !== null && !m._nonPersistent.has(name)) own.set(key(name), b);
    }
    const missingKeys = [...own.keys()].filter((k) => !(k in stateDict));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !own.has(k));
    const errors: string[] = [];
    if (strict && missingKeys.length) errors.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (strict && unexpectedKeys.length) errors.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    for (const [k, dst] of own) {
      const src = stateDict[k];
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) {
        errors.push(`While copying the parameter named "${k}", expected a Tensor but received ${describe(src)}.`);
        continue;
      }
      const a = src.shape;
      const b = dst.shape;
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
        errors.push(`size mismatch for ${k}: copying a param with shape [${a.join(', ')}] from checkpoint, the shape in current model is [${b.join(', ')}].`);
      }
    }
    if (errors.length) {
      throw new TorchError(`Error(s) in loading state_dict for ${this.constructor.name}:\n\t${errors.join('\n\t')}`, 'VALUE_ERROR');
    }
    const prev = N.setGradEnabled(false);
    try {
      for (const [k, dst] of own) {
        const src = stateDict[k];
        if (src instanceof Tensor) dst.copy_(src);
      }
    } finally {
      N.setGradEnabled(prev);
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Sets training mode on this module and every submodule (dropout, batch norm). */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError(`train() expects a boolean but received ${describe(mode)}`);
    for (const m of this.modules()) {
      m.training = mode;
      if (m._native !== null) N.moduleTrain(m._native, mode);
    }
    return this;
  }

  /** Evaluation mode (`train(false)`). */
  eval(): this {
    return this.train(false);
  }

  /** Clears (default: sets to null) the gradients of all parameters. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    N.zeroGrad(this.parameters().map((p) => p.h), options.setToNone ?? true);
  }

  /**
   * Moves parameters and buffers to a device and/or converts floating-point ones to a dtype, in place (tensor
   * handles stay valid; optimizers keep working), as PyTorch's Module.to.
   */
  to(target: Device | DType | { device?: Device; dtype?: DType }): this {
    let device: Device | undefined;
    let dtype: DType | undefined;
    if (typeof target === 'string') {
      if (target === 'cpu' || target.startsWith('cuda')) device = target as Device;
      else dtype = target as DType;
    } else if (target !== null && typeof target === 'object') {
      ({ device, dtype } = target);
    } else {
      throw new TypeError(`to() expects a device, a dtype or {device, dtype}, got ${describe(target)}`);
    }
    if (device !== undefined) deviceCode(device);
    if (dtype !== undefined) {
      dtypeCode(dtype);
      if (!isFloatingPoint(dtype)) throw new TypeError(`Module.to only accepts floating point dtypes, got ${dtype}`);
    }
    const seen = new Set<Tensor>();
    const prev = N.setGradEnabled(false);
    try {
      for (const m of this.modules()) {
        for (const t of [...m._parameters.values(), ...m._buffers.values()]) {
          if (t === null || seen.has(t)) continue;
          seen.add(t);
          const convert = dtype !== undefined && isFloatingPoint(t.dtype);
          const moved = t.to({ ...(device !== undefined ? { device } : {}), ...(convert ? { dtype } : {}) });
          N.setData(t.h, moved.h);
          moved.dispose();
          const g = t.grad;
          if (g !== null) {
            const gm = g.to({ ...(device !== undefined ? { device } : {}), ...(convert ? { dtype } : {}) });
            t.grad = gm;
          }
        }
      }
    } finally {
      N.setGradEnabled(prev);
    }
    return this;
  }

  cpu(): this {
    return this.to('cpu');
  }

  /** Moves parameters and buffers to a CUDA device: the current one (see `torch.cuda.setDevice`) or `device`. */
  cuda(device?: number): this {
    return this.to(device === undefined ? 'cuda' : `cuda:${int(device, 'device')}`);
  }

  float(): this {
    return this.to('float32');
  }

  double(): this {
    return this.to('float64');
  }

  /** Calls fn on every submodule (children first) and on this module, as PyTorch's apply. */
  apply(fn: (m: Module) => void): this {
    for (const m of this._modules.values()) m.apply(fn);
    fn(this);
    return this;
  }

  /** PyTorch-like summary of the module tree. */
  toString(): string {
    const extra = this.extraRepr();
    const kids = [...this._modules.entries()];
    if (!kids.length) return `${this.constructor.name}(${extra})`;
    const lines = kids.map(([n, m]) => `  (${n}): ${m.toString().split('\n').join('\n  ')}`);
    return `${this.constructor.name}(${extra ? `${extra}\n` : '\n'}${lines.join('\n')}\n)`;
  }

  /** Extra text for toString (layers override it). */
  extraRepr(): string {
    return '';
  }
}
