/**
 * Feature capture: the outputs of named intermediate modules of a model, taken by forward hooks during its forward
 * pass, for feature (hint) distillation.
 *
 * The counterpart of torchdistill's `ForwardHookManager` (torchdistill/core/forward_hook.py) with `get_module`'s dotted
 * paths (`'layer3'`, `'features.4'`, `'layer3.0.conv1'`): the model is not changed, only hooked, and the hooks come
 * off with `remove()`. Unlike torchdistill's io dict, which keeps whatever the hooks last wrote, a capture starts
 * empty at every forward of the model and is emptied by `clear()`, so reading a feature that this step did not
 * produce is an error instead of last step's tensor.
 */
import { describe } from '../dtype';
import { TorchError } from '../errors';
import { Module, RemovableHandle } from '../nn/module';
import { Tensor } from '../tensor';

/** Options of {@link FeatureCapture}. */
export interface FeatureCaptureOptions {
  /** Capture each module's `'output'` (default) or its `'input'` (its first argument), as torchdistill's `io`. */
  io?: 'output' | 'input';
  /** Store features detached from the autograd graph (teacher features: constants of the loss). Default false. */
  detach?: boolean;
}

function modulePaths(model: Module): string {
  const names = [...model.namedModules()].map(([n]) => n).filter((n) => n !== '');
  const shown = names.slice(0, 12).map((n) => `'${n}'`).join(', ');
  return names.length === 0 ? 'it has no submodules' : `its submodules are ${shown}${names.length > 12 ? `, … (${names.length} in all)` : ''}`;
}

/** @internal The submodule at `path`, or a RangeError naming the model's submodules. */
export function resolveSubmodule(model: Module, path: string, what: string): Module {
  if (typeof path !== 'string') throw new TypeError(`${what}: expected a module name (a dotted path such as 'layer3' or 'features.4') but received ${describe(path)}`);
  try {
    return model.getSubmodule(path);
  } catch (e) {
    if (!(e instanceof TorchError)) throw e;
    throw new RangeError(`${what}: ${model.constructor.name} has no submodule '${path}'; ${modulePaths(model)}`);
  }
}

/** What a hook saw: torchdistill unwraps a one-element tuple, and so does this. */
function single(v: unknown): unknown {
  return Array.isArray(v) && v.length === 1 ? v[0] : v;
}

/**
 * Captures the outputs (or inputs) of named submodules of a model at each forward pass, through forward hooks on
 * those submodules and a forward pre-hook on the model itself.
 *
 * Each forward of the whole model (`model.call(...)`) empties the capture and records its inputs, so what
 * {@link FeatureCapture.get} returns always comes from the latest forward; `clear()` empties it between steps, and a
 * read with nothing captured since is a `TorchError` (a stale feature is never returned). Features keep their
 * autograd graph unless `detach` is set. A module run twice in one forward keeps its last output, as torchdistill's
 * single-pass hooks do. Hooks run only through `call()` (not when `forward()` is called directly), as in PyTorch.
 *
 * @example
 * const feats = new distiller.FeatureCapture(model, ['layer2', 'features.4']);
 * model.call(x); const h = feats.get('layer2'); feats.remove();
 */
export class FeatureCapture implements Disposable {
  /** The hooked model. */
  readonly model: Module;
  /** The captured submodules' dotted names, in the order given. */
  readonly names: readonly string[];
  /** `'output'` or `'input'` of each named module. */
  readonly io: 'output' | 'input';
  /** Whether features are stored detached. */
  readonly detach: boolean;
  /** When false the hooks store nothing (a policy turns its captures off outside its epochs). Default true. */
  enabled = true;
  private readonly values = new Map<string, unknown>();
  private lastInputs: readonly unknown[] | null = null;
  private readonly handles: RemovableHandle[] = [];
  private forwards = 0;

  constructor(model: Module, names: Iterable<string>, options: FeatureCaptureOptions = {}) {
    if (!(model instanceof Module)) throw new TypeError(`FeatureCapture: expected an nn.Module for model but received ${describe(model)}`);
    if (names === null || typeof names !== 'object' || typeof (names as Iterable<string>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`FeatureCapture: expected an array of module names for names but received ${describe(names)}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError(`FeatureCapture: expected an options object but received ${describe(options)}`);
    const io = options.io ?? 'output';
    if (io !== 'output' && io !== 'input') throw new RangeError(`FeatureCapture: io must be 'output' or 'input', got ${describe(io)}`);
    const list = [...new Set(names)];
    const modules = list.map((n, i) => resolveSubmodule(model, n, `FeatureCapture: names[${i}]`));
    this.model = model;
    this.names = Object.freeze(list);
    this.io = io;
    this.detach = options.detach ?? false;
    // The model's own pre-hook first: a forward of the whole model starts a new capture.
    this.handles.push(
      model.registerForwardPreHook((_m, inputs) => {
        if (!this.enabled) return;
        this.values.clear();
        this.lastInputs = [...(inputs as unknown[])];
        this.forwards++;
      }, { prepend: true }),
    );
    modules.forEach((m, i) => {
      const name = list[i];
      this.handles.push(
        m.registerForwardHook((_m, inputs, output) => {
          if (!this.enabled) return;
          let v = this.io === 'output' ? single(output) : (inputs as unknown[])[0];
          if (this.detach && v instanceof Tensor && v.requiresGrad) v = v.detach();
          this.values.set(name, v);
        }),
      );
    });
  }

  /**
   * The feature of `name` from the latest forward. A `RangeError` for a name this capture does not hook; a
   * `TorchError` when nothing was captured for it since the last `clear()` (the model did not run, or did not run
   * that module); a `TypeError` when the module produced something other than a tensor.
   */
  get(name: string): Tensor {
    if (!this.names.includes(name)) {
      throw new RangeError(`FeatureCapture.get: '${String(name)}' is not captured; the captured modules are ${this.names.map((n) => `'${n}'`).join(', ') || 'none'}`);
    }
    if (!this.values.has(name)) {
      throw new TorchError(
        `FeatureCapture: no ${this.io} of '${name}' was captured since the last clear(): run the model through call() ` +
          '(or the policy\'s forward) in this step before reading its features; features are never reused from an earlier step',
        'VALUE_ERROR',
      );
    }
    const v = this.values.get(name);
    if (!(v instanceof Tensor)) throw new TypeError(`FeatureCapture: the ${this.io} of '${name}' is ${describe(v)}, not a Tensor`);
    return v;
  }

  /** Whether `name` holds a feature from the latest forward. */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /** The inputs of the model's latest forward since the last `clear()`, or null. */
  get inputs(): readonly unknown[] | null {
    return this.lastInputs;
  }

  /** How many forwards of the whole model this capture has seen (while enabled). */
  get forwardCount(): number {
    return this.forwards;
  }

  /** Drops the captured features and inputs (they are not disposed: the training step may still hold them). */
  clear(): void {
    this.values.clear();
    this.lastInputs = null;
  }

  /** Removes the hooks and drops what was captured (idempotent). */
  remove(): void {
    for (const h of this.handles) h.remove();
    this.handles.length = 0;
    this.clear();
  }

  /** Whether `remove()` was called. */
  get removed(): boolean {
    return this.handles.length === 0;
  }

  /** `using capture = new FeatureCapture(...)` removes the hooks at the end of the scope. */
  [Symbol.dispose](): void {
    this.remove();
  }
}
