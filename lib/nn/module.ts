/**
 * torch.nn.Module: the base class of layers and models.
 *
 * Built-in layers are backed by libtorch C++-frontend modules or by torch.nn.functional (a Sequential of native
 * layers runs in one native call); user modules subclass Module in TypeScript and register parameters, buffers and
 * submodules as PyTorch does (assigning a Module or a {@link Parameter}-flagged tensor to a property registers it, in
 * assignment order, so names match Python's `state_dict()` keys).
 *
 * `module.call(x)` is Python's `module(x)`: it runs the forward pre-hooks, `forward`, the forward hooks, and sets up
 * the backward hooks. Its types follow the subclass's `forward`, so a forward returning `[logits, hidden]` gives
 * `const [l, h] = net.call(x)`.
 *
 * @example
 * class Net extends nn.Module {
 *   fc1 = new nn.Linear(784, 100);
 *   fc2 = new nn.Linear(100, 10);
 *   forward(x: Tensor) { return this.fc2.call(this.fc1.call(x).relu()); }
 * }
 */
import { native } from '../binding';
import { DType, Device, type MemoryFormat, describe, deviceCode, dtypeCode, isFloatingPoint, memoryFormatCode } from '../dtype';
import { TorchError } from '../errors';
import { Tensor, handleOf, int, wrap } from '../tensor';
import { BackwardHooks } from './backward-hooks';
import { type ModuleTree, moduleRepr, moduleTree } from './repr';

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

/** Whether a tensor was made a parameter with {@link Parameter} (or registered as one). */
export function isParameter(t: unknown): boolean {
  return t instanceof Tensor && (t as unknown as Record<symbol, boolean>)[PARAMETER] === true;
}

// Native module handles are freed when their Module wrapper is collected.
const moduleRegistry = new FinalizationRegistry<number>((h) => N.releaseModule(h));

/** The handle of a registered hook; `remove()` unregisters it (also `using h = m.registerForwardHook(...)`). */
export class RemovableHandle {
  private static next = 0;
  /** A unique id, as PyTorch's handle.id. */
  readonly id = RemovableHandle.next++;
  constructor(private readonly maps: Map<number, unknown>[]) {}
  /** Unregisters the hook (idempotent). */
  remove(): void {
    for (const m of this.maps) m.delete(this.id);
    bumpHooks();
  }
  [Symbol.dispose](): void {
    this.remove();
  }
}

// Any hook registered or removed anywhere: native fast paths (a whole native Sequential, the KD forward) recheck
// whether a module below has hooks, since those only run when forward goes through JS.
let hookEpoch = 0;
function bumpHooks(): void {
  hookEpoch++;
}
/** @internal */
export function currentHookEpoch(): number {
  return hookEpoch;
}

/** `forward`'s arguments, as `call` takes them. */
export type ForwardArgs<M> = M extends { forward(...args: infer A): unknown } ? A : never;
/** `forward`'s result, as `call` returns it. */
export type ForwardResult<M> = M extends { forward(...args: never[]): infer R } ? R : never;

/** A forward pre-hook: sees the inputs; may return replacements (a value that is not an array is one input). */
export type ForwardPreHook<M extends Module = Module> = (module: M, inputs: ForwardArgs<M>) => unknown;
/** A forward hook: sees the inputs and the output; may return a replacement output. */
export type ForwardHook<M extends Module = Module> = (module: M, inputs: ForwardArgs<M>, output: ForwardResult<M>) => unknown;
/**
 * A full backward hook: the gradients w.r.t. the module's tensor inputs and outputs (null where none flows); may
 * return replacement input gradients.
 */
export type BackwardHook<M extends Module = Module> = (module: M, gradInput: (Tensor | null)[], gradOutput: (Tensor | null)[]) => (Tensor | null)[] | void;
/** A full backward pre-hook: the gradients w.r.t. the outputs, before they flow into the module; may replace them. */
export type BackwardPreHook<M extends Module = Module> = (module: M, gradOutput: (Tensor | null)[]) => (Tensor | null)[] | void;

/** Options of the hook registrations. */
export interface HookOptions {
  /** Run this hook before the ones already registered (default false). */
  prepend?: boolean;
}

/** Options of {@link Module.registerForwardHook}. */
export interface ForwardHookOptions extends HookOptions {
  /** Also run the hook when forward throws (it then sees `undefined` as the output). Default false. */
  alwaysCall?: boolean;
}

function addHook<T>(map: Map<number, T>, fn: T, options: HookOptions, what: string): RemovableHandle {
  if (typeof fn !== 'function') throw new TypeError(`${what} expects a function but received ${describe(fn)}`);
  if (options === null || typeof options !== 'object') throw new TypeError(`${what}: expected an options object but received ${describe(options)}`);
  const handle = new RemovableHandle([map as Map<number, unknown>]);
  if (options.prepend) {
    const rest = [...map];
    map.clear();
    map.set(handle.id, fn);
    for (const [k, v] of rest) map.set(k, v);
  } else {
    map.set(handle.id, fn);
  }
  bumpHooks();
  return handle;
}

function isModuleHolder(value: unknown): string | null {
  if (Array.isArray(value)) {
    if (value.some((v) => v instanceof Module)) return 'an array of Modules is not registered: assign an nn.ModuleList (new nn.ModuleList([...])) so that its modules and parameters are';
    if (value.some((v) => isParameter(v))) return 'an array of Parameters is not registered: assign an nn.ParameterList (new nn.ParameterList([...]))';
    return null;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const vals = Object.values(value as object);
    if (vals.some((v) => v instanceof Module)) return 'an object of Modules is not registered: assign an nn.ModuleDict (new nn.ModuleDict({...})) so that its modules and parameters are';
    if (vals.some((v) => isParameter(v))) return 'an object of Parameters is not registered: assign an nn.ParameterDict (new nn.ParameterDict({...}))';
  }
  return null;
}

function isIndexKey(prop: string | symbol): prop is string {
  return typeof prop === 'string' && /^-?\d+$/.test(prop);
}

/** What indexable containers (Sequential, ModuleList, ParameterList) implement for `c[i]` and `c[i] = m`. */
interface Indexable {
  at(index: number): unknown;
  setAt(index: number, value: unknown): void;
  deleteAt?(index: number): void;
}

/**
 * Base class for all neural network modules. `In` and `Out` type `forward` (and `call`) for subclasses that want it
 * stated (`class Net extends nn.Module<[Tensor], Tensor>`); without them, `call` follows the subclass's `forward`.
 */
export class Module<In extends unknown[] = unknown[], Out = unknown> {
  /** @internal */ _parameters = new Map<string, Tensor | null>();
  /** @internal */ _buffers = new Map<string, Tensor | null>();
  /** @internal */ _modules = new Map<string, Module | null>();
  /** @internal */ _native: number | null = null;
  /** @internal */ _nonPersistent = new Set<string>();
  /** @internal */ _forwardPreHooks: Map<number, ForwardPreHook> | null = null;
  /** @internal */ _forwardHooks: Map<number, ForwardHook> | null = null;
  /** @internal */ _forwardHooksAlways: Set<number> | null = null;
  /** @internal */ _backwardHooks: Map<number, BackwardHook> | null = null;
  /** @internal */ _backwardPreHooks: Map<number, BackwardPreHook> | null = null;
  /** True in training mode (the default), false after `eval()`. */
  training = true;
  /** @internal The built-in class a layer was made as (what its forward dispatches on; a subclass keeps it). */
  _kind = '';

  /** @internal Containers set this so that `c[0]` indexes them. */
  protected static indexable = false;

  constructor() {
    // Assigning Modules and Parameter tensors to properties registers them (like nn.Module.__setattr__); class
    // fields arrive through defineProperty, assignments through set.
    const register = (target: Module, prop: string | symbol, value: unknown): void => {
      if (typeof prop !== 'string' || prop.startsWith('_')) return;
      if (value instanceof Module) {
        target._parameters.delete(prop);
        target._buffers.delete(prop);
        target._modules.set(prop, value);
      } else if (value instanceof Tensor && isParameter(value)) {
        target._modules.delete(prop);
        target._buffers.delete(prop);
        target._parameters.set(prop, value);
      } else if (value instanceof Tensor && target._buffers.has(prop)) target._buffers.set(prop, value);
      else if (value instanceof Tensor && target._parameters.has(prop)) target._parameters.set(prop, Parameter(value, value.requiresGrad));
      else if (value === null && target._modules.has(prop)) target._modules.set(prop, null);
      else if (value === null && target._parameters.has(prop)) target._parameters.set(prop, null);
      else if (value === null && target._buffers.has(prop)) target._buffers.set(prop, null);
      else {
        const why = isModuleHolder(value);
        if (why) throw new TypeError(`${target.constructor.name}.${prop}: ${why}`);
        if (target._modules.has(prop) || target._parameters.has(prop)) {
          throw new TypeError(`cannot assign ${describe(value)} as ${target.constructor.name}.${prop}: it holds a ${target._modules.has(prop) ? 'submodule' : 'parameter'} (assign a ${target._modules.has(prop) ? 'Module' : 'Parameter'} or null)`);
        }
        if (target._buffers.has(prop)) throw new TypeError(`cannot assign ${describe(value)} as ${target.constructor.name}.${prop}: it holds a buffer (assign a Tensor or null)`);
      }
    };
    const indexable = (new.target as unknown as { indexable?: boolean }).indexable === true;
    const handler: ProxyHandler<this> = {
      set(target, prop, value, receiver) {
        if (indexable && isIndexKey(prop)) {
          (target as unknown as Indexable).setAt(Number(prop), value);
          return true;
        }
        register(target, prop, value);
        return Reflect.set(target, prop, value, receiver);
      },
      defineProperty(target, prop, descriptor) {
        if ('value' in descriptor) register(target, prop, descriptor.value);
        return Reflect.defineProperty(target, prop, descriptor);
      },
      deleteProperty(target, prop) {
        if (indexable && isIndexKey(prop) && (target as unknown as Indexable).deleteAt) {
          (target as unknown as Indexable).deleteAt?.(Number(prop));
          return true;
        }
        if (typeof prop === 'string') {
          target._modules.delete(prop);
          target._parameters.delete(prop);
          target._buffers.delete(prop);
          target._nonPersistent.delete(prop);
        }
        return Reflect.deleteProperty(target, prop);
      },
    };
    if (indexable) {
      handler.get = (target, prop, receiver) => (isIndexKey(prop) ? (target as unknown as Indexable).at(Number(prop)) : Reflect.get(target, prop, receiver) as unknown);
      handler.has = (target, prop) => (isIndexKey(prop) ? Number(prop) >= 0 && Number(prop) < (target as unknown as { length: number }).length : Reflect.has(target, prop));
    }
    return new Proxy(this, handler);
  }

  /** Computes the output. Subclasses override this (native layers run in libtorch). */
  forward(...inputs: In): Out {
    if (this._native !== null) return wrap(N.moduleForward(this._native, inputs.map((t, i) => handleOf(t, `input ${i}`)))) as Out;
    throw new TypeError(`${this.constructor.name}.forward() is not implemented`);
  }

  /**
   * Runs the module: PyTorch's `module(x)`. Forward pre-hooks, `forward`, forward hooks and backward hooks run here
   * (not when `forward` is called directly, as in PyTorch).
   */
  call<M extends Module>(this: M, ...inputs: ForwardArgs<M>): ForwardResult<M> {
    if (this._forwardPreHooks === null && this._forwardHooks === null && this._backwardHooks === null && this._backwardPreHooks === null) {
      return (this.forward as (...a: unknown[]) => unknown)(...inputs) as ForwardResult<M>;
    }
    return this._callWithHooks(inputs as unknown[]) as ForwardResult<M>;
  }

  // PyTorch's _call_impl: pre-hooks, backward-hook set-up, forward, forward hooks; when any of it throws, the
  // always-call forward hooks that have not run yet run (their own errors become warnings) and the error propagates.
  private _callWithHooks(inputs: unknown[]): unknown {
    let args = inputs;
    let out: unknown;
    const alwaysRan = new Set<number>();
    try {
      if (this._forwardPreHooks) {
        for (const hook of [...this._forwardPreHooks.values()]) {
          const r = (hook as (m: Module, a: unknown[]) => unknown)(this, args);
          if (r !== undefined) args = Array.isArray(r) ? r : [r];
        }
      }
      const bw = (this._backwardHooks?.size || this._backwardPreHooks?.size) && N.isGradEnabled() ? new BackwardHooks(this, this._backwardHooks, this._backwardPreHooks) : null;
      if (bw) args = bw.setupInputs(args);
      out = (this.forward as (...a: unknown[]) => unknown)(...args);
      if (this._forwardHooks) {
        for (const [id, hook] of [...this._forwardHooks]) {
          if (this._forwardHooksAlways?.has(id)) alwaysRan.add(id);
          const r = (hook as (m: Module, a: unknown[], o: unknown) => unknown)(this, args, out);
          if (r !== undefined) out = r;
        }
      }
      if (bw) out = bw.setupOutputs(out);
      return out;
    } catch (e) {
      if (this._forwardHooks && this._forwardHooksAlways) {
        for (const [id, hook] of [...this._forwardHooks]) {
          if (!this._forwardHooksAlways.has(id) || alwaysRan.has(id)) continue;
          try {
            const r = (hook as (m: Module, a: unknown[], o: unknown) => unknown)(this, args, out);
            if (r !== undefined) out = r;
          } catch (inner) {
            process.emitWarning(`module forward hook with alwaysCall raised an exception that was silenced as another error was raised in forward: ${(inner as Error)?.message ?? String(inner)}`);
          }
        }
      }
      throw e;
    }
  }

  /**
   * Registers `hook(module, inputs)`, run before each forward through {@link call}; returning a value replaces the
   * inputs (an array is the argument list; anything else is the single input).
   */
  registerForwardPreHook(hook: ForwardPreHook<this>, options: HookOptions = {}): RemovableHandle {
    this._forwardPreHooks ??= new Map();
    return addHook(this._forwardPreHooks as Map<number, unknown>, hook, options, 'registerForwardPreHook');
  }

  /**
   * Registers `hook(module, inputs, output)`, run after each forward through {@link call}; returning a value replaces
   * the output. Feature distillation captures intermediate activations this way.
   *
   * @example
   * const feats: Tensor[] = [];
   * const h = model.getSubmodule('layer3').registerForwardHook((m, inputs, out) => { feats.push(out as Tensor); });
   * model.call(x);
   * h.remove();
   */
  registerForwardHook(hook: ForwardHook<this>, options: ForwardHookOptions = {}): RemovableHandle {
    this._forwardHooks ??= new Map();
    const handle = addHook(this._forwardHooks as Map<number, unknown>, hook, options, 'registerForwardHook');
    if (options.alwaysCall) {
      this._forwardHooksAlways ??= new Set();
      this._forwardHooksAlways.add(handle.id);
    }
    return handle;
  }

  /**
   * Registers `hook(module, gradInput, gradOutput)`, run when the gradients w.r.t. the module's tensor inputs have
   * been computed (PyTorch's register_full_backward_hook); returning an array replaces `gradInput`. Runs for CPU
   * tensors (libtorch runs CUDA backward work on its own threads, which cannot call JavaScript).
   */
  registerFullBackwardHook(hook: BackwardHook<this>, options: HookOptions = {}): RemovableHandle {
    this._backwardHooks ??= new Map();
    return addHook(this._backwardHooks as Map<number, unknown>, hook, options, 'registerFullBackwardHook');
  }

  /** Registers `hook(module, gradOutput)`, run before the output gradients flow into the module; may replace them. */
  registerFullBackwardPreHook(hook: BackwardPreHook<this>, options: HookOptions = {}): RemovableHandle {
    this._backwardPreHooks ??= new Map();
    return addHook(this._backwardPreHooks as Map<number, unknown>, hook, options, 'registerFullBackwardPreHook');
  }

  /** @internal Whether this module has hooks of its own. */
  _hasHooks(): boolean {
    return !!(this._forwardPreHooks?.size || this._forwardHooks?.size || this._backwardHooks?.size || this._backwardPreHooks?.size);
  }

  /** @internal The native module handle when the whole forward runs natively (and no hook needs JS), else null. */
  nativeHandle(): number | null {
    return this._hasHooks() ? null : this._native;
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

  // ---- registration -------------------------------------------------------------------------------------------

  /** Registers a submodule under `name` (PyTorch's add_module / register_module). */
  registerModule(name: string, module: Module | null): void {
    if (typeof name !== 'string' || name.includes('.') || name === '') throw new RangeError(`invalid module name ${describe(name)}`);
    if (module !== null && !(module instanceof Module)) throw new TypeError(`registerModule expects a Module but received ${describe(module)}`);
    this._modules.set(name, module);
    Object.defineProperty(this, name, { value: module, writable: true, configurable: true, enumerable: true });
  }

  /** Alias of {@link registerModule} (PyTorch's add_module). */
  addModule(name: string, module: Module | null): void {
    this.registerModule(name, module);
  }

  /** Registers a parameter (null keeps the name without a tensor, as PyTorch allows). */
  registerParameter(name: string, param: Tensor | null): void {
    if (typeof name !== 'string' || name.includes('.') || name === '') throw new RangeError(`invalid parameter name ${describe(name)}`);
    if (param !== null && !(param instanceof Tensor)) throw new TypeError(`registerParameter expects a Tensor or null but received ${describe(param)}`);
    if (param !== null) Parameter(param, param.requiresGrad || !isParameter(param));
    this._parameters.set(name, param);
    Object.defineProperty(this, name, { value: param, writable: true, configurable: true, enumerable: true });
  }

  /** Registers a buffer: saved in the state dict (unless persistent is false) but not trained. */
  registerBuffer(name: string, tensor: Tensor | null, options: { persistent?: boolean } = {}): void {
    if (typeof name !== 'string' || name.includes('.') || name === '') throw new RangeError(`invalid buffer name ${describe(name)}`);
    if (tensor !== null && !(tensor instanceof Tensor)) throw new TypeError(`registerBuffer expects a Tensor or null but received ${describe(tensor)}`);
    this._buffers.set(name, tensor);
    if (options.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
    Object.defineProperty(this, name, { value: tensor, writable: true, configurable: true, enumerable: true });
  }

  // ---- traversal ------------------------------------------------------------------------------------------------

  /** Direct children, name first (each module once). */
  *namedChildren(): IterableIterator<[string, Module]> {
    const seen = new Set<Module>();
    for (const [name, m] of this._modules) {
      if (m === null || seen.has(m)) continue;
      seen.add(m);
      yield [name, m];
    }
  }

  *children(): IterableIterator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** This module and all below it, with dotted names ('' for this one); each module once unless removeDuplicate is false. */
  *namedModules(prefix = '', options: { removeDuplicate?: boolean } = {}, memo: Set<Module> = new Set()): IterableIterator<[string, Module]> {
    const dedupe = options.removeDuplicate ?? true;
    if (dedupe) {
      if (memo.has(this)) return;
      memo.add(this);
    }
    yield [prefix, this];
    for (const [name, m] of this._modules) {
      if (m === null) continue;
      yield* m.namedModules(prefix ? `${prefix}.${name}` : name, options, memo);
    }
  }

  *modules(): IterableIterator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** Parameters with dotted names, in PyTorch's order (own first, then each child's); each tensor once. */
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

  /** Buffers with dotted names (each tensor once). */
  *namedBuffers(prefix = '', recurse = true): IterableIterator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    for (const [modPrefix, m] of recurse ? this.namedModules(prefix) : [[prefix, this] as [string, Module]]) {
      for (const [name, b] of m._buffers) {
        if (b === null || seen.has(b)) continue;
        seen.add(b);
        yield [modPrefix ? `${modPrefix}.${name}` : name, b];
      }
    }
  }

  buffers(recurse = true): Tensor[] {
    return [...this.namedBuffers('', recurse)].map(([, b]) => b);
  }

  /** The submodule at a dotted path (`'layer3.0.conv1'`; '' is this module), as PyTorch's get_submodule. */
  getSubmodule(target: string): Module {
    if (typeof target !== 'string') throw new TypeError(`getSubmodule expects a dotted name but received ${describe(target)}`);
    if (target === '') return this;
    let mod: Module = this;
    for (const item of target.split('.')) {
      const next = mod._modules.get(item);
      if (next === undefined) throw new TorchError(`${mod.constructor.name} has no attribute \`${item}\``, 'VALUE_ERROR');
      if (next === null) throw new TorchError(`\`${item}\` is not an nn.Module (it is null)`, 'VALUE_ERROR');
      mod = next;
    }
    return mod;
  }

  /** The parameter at a dotted path (`'fc.weight'`). */
  getParameter(target: string): Tensor {
    const [path, name] = splitLast(target, 'getParameter');
    const m = this.getSubmodule(path);
    const p = m._parameters.get(name);
    if (p === undefined || p === null) throw new TorchError(`\`${name}\` is not an nn.Parameter of ${m.constructor.name}`, 'VALUE_ERROR');
    return p;
  }

  /** The buffer at a dotted path (`'bn.running_mean'`). */
  getBuffer(target: string): Tensor {
    const [path, name] = splitLast(target, 'getBuffer');
    const m = this.getSubmodule(path);
    const b = m._buffers.get(name);
    if (b === undefined || b === null) throw new TorchError(`\`${name}\` is not a buffer of ${m.constructor.name}`, 'VALUE_ERROR');
    return b;
  }

  // ---- state --------------------------------------------------------------------------------------------------

  /**
   * Parameters and persistent buffers by dotted name, in PyTorch's order (per module: parameters, then buffers).
   * The tensors are the module's own (detached views share storage), as in PyTorch.
   */
  stateDict(options: { prefix?: string; keepVars?: boolean } = {}): StateDict {
    const out: StateDict = {};
    const keep = options.keepVars ?? false;
    // Every registration, as PyTorch's recursion over _modules: a child registered under two names is saved under both.
    for (const [modPrefix, m] of this.namedModules(options.prefix ?? '', { removeDuplicate: false })) {
      const key = (n: string): string => (modPrefix ? `${modPrefix}.${n}` : n);
      for (const [name, p] of m._parameters) if (p !== null) out[key(name)] = keep ? p : p.detach();
      for (const [name, b] of m._buffers) if (b !== null && !m._nonPersistent.has(name)) out[key(name)] = keep ? b : b.detach();
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
    for (const [modPrefix, m] of this.namedModules('', { removeDuplicate: false })) {
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

  // ---- modes, devices, gradients ------------------------------------------------------------------------------

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

  /** Sets requiresGrad on every parameter (freezing with `false`), as PyTorch's requires_grad_. */
  requiresGrad_(requiresGrad = true): this {
    if (typeof requiresGrad !== 'boolean') throw new TypeError(`requiresGrad_() expects a boolean but received ${describe(requiresGrad)}`);
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Clears (default: sets to null) the gradients of all parameters. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    N.zeroGrad(this.parameters().map((p) => p.h), options.setToNone ?? true);
  }

  /**
   * Moves parameters and buffers to a device and/or converts floating-point ones to a dtype, in place (tensor
   * handles stay valid; optimizers keep working), as PyTorch's Module.to. `{memoryFormat: torch.channelsLast}`
   * lays out its 4-d (and 5-d) weights as NHWC, so convolutions run in channels-last form.
   */
  to(target: Device | DType | { device?: Device; dtype?: DType; memoryFormat?: MemoryFormat }): this {
    let device: Device | undefined;
    let dtype: DType | undefined;
    let memoryFormat: MemoryFormat | undefined;
    if (typeof target === 'string') {
      if (target === 'cpu' || target.startsWith('cuda')) device = target as Device;
      else dtype = target as DType;
    } else if (target !== null && typeof target === 'object') {
      ({ device, dtype, memoryFormat } = target);
    } else {
      throw new TypeError(`to() expects a device, a dtype or {device, dtype, memoryFormat}, got ${describe(target)}`);
    }
    if (memoryFormat !== undefined) memoryFormatCode(memoryFormat, 'Module.to()');
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
          // As PyTorch's Module.to: the memory format applies to 4-d and 5-d parameters and buffers only.
          const format = memoryFormat !== undefined && (t.dim() === 4 || t.dim() === 5) ? { memoryFormat } : {};
          const moved = t.to({ ...(device !== undefined ? { device } : {}), ...(convert ? { dtype } : {}), ...format });
          N.setData(t.h, moved.h);
          moved.dispose();
          const g = t.grad;
          if (g !== null) {
            const gm = g.to({ ...(device !== undefined ? { device } : {}), ...(convert ? { dtype } : {}), ...format });
            t.grad = gm;
            g.dispose();
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

  half(): this {
    return this.to('float16');
  }

  bfloat16(): this {
    return this.to('bfloat16');
  }

  /** Calls fn on every submodule (children first) and on this module, as PyTorch's apply. */
  apply(fn: (m: Module) => void): this {
    if (typeof fn !== 'function') throw new TypeError(`apply() expects a function but received ${describe(fn)}`);
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  // ---- printing -----------------------------------------------------------------------------------------------

  /** PyTorch's module tree printout: `Net(\n  (fc): Linear(in_features=3, out_features=4, bias=True)\n)`. */
  toString(): string {
    return moduleRepr(this);
  }

  /** The module tree as data: `{ type, extra, children }`. */
  toJSON(): ModuleTree {
    return moduleTree(this);
  }

  /** @internal `console.log(module)` prints the module tree. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return moduleRepr(this);
  }

  /** Extra text for the printout (layers override it, as PyTorch's extra_repr). */
  extraRepr(): string {
    return '';
  }
}

function splitLast(target: string, fn: string): [string, string] {
  if (typeof target !== 'string' || target === '') throw new TypeError(`${fn} expects a dotted name but received ${describe(target)}`);
  const i = target.lastIndexOf('.');
  return i < 0 ? ['', target] : [target.slice(0, i), target.slice(i + 1)];
}
