/**
 * The optimizer base: parameter groups with per-group options, per-parameter state, and state dicts in PyTorch's
 * layout (`{state: {0: {...}}, param_groups: [{lr, ..., params: [0, 1]}]}`, option names in snake_case), so a
 * torchkd optimizer checkpoint and a Python one are interchangeable through torch.save / torch.load.
 */
import { describe, isFloatingPoint } from '../dtype';
import { TorchError } from '../errors';
import { pyFloat } from '../nn/layers/base';
import { N, Tensor, handleOf } from '../tensor';

/** A parameter group: its parameters and its options (camelCase). */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  [option: string]: unknown;
}

/** Parameters as PyTorch accepts them: a list of tensors, or a list of groups `{params, ...options}`. */
export type ParamsArg = Tensor[] | Iterable<Tensor> | (Partial<ParamGroup> & { params: Tensor[] | Iterable<Tensor> })[];

/** An option value in a saved parameter group (PyTorch stores numbers, booleans, null and lists of them). */
export type ParamGroupValue = number | boolean | string | null | (number | boolean | null)[];

/** The PyTorch-layout state dict of an optimizer (what `torch.save` writes and Python's optimizer loads). */
export interface OptimizerStateDict {
  state: Record<string, Record<string, Tensor | number>>;
  param_groups: Record<string, ParamGroupValue>[];
}

/**
 * PyTorch's implementation switches (`foreach`, `fused`, `capturable`, `differentiable`): accepted in their default
 * (null or false), as torchkd runs PyTorch's single-tensor algorithms; anything else is a clear error.
 */
export interface FlagOptions {
  foreach?: boolean | null;
  fused?: boolean | null;
  capturable?: boolean;
  differentiable?: boolean;
}

/** @internal */
export const FLAGS = ['foreach', 'fused', 'capturable', 'differentiable'];

/** @internal */
export function checkFlags(fn: string, o: FlagOptions, flags: readonly string[] = FLAGS): void {
  for (const k of flags) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined && v !== null && v !== false) {
      throw new TorchError(`${fn}: ${k}=${String(v)} is not supported: torchkd runs PyTorch's single-tensor algorithm (${k}=False), whose results it matches bit for bit`, 'NOT_IMPLEMENTED');
    }
  }
}

/** PyTorch's words for an option in its range errors ("Invalid learning rate: -1"); others read "Invalid <name> value". */
const RANGE_LABELS: Record<string, string> = { lr: 'learning rate', eps: 'epsilon value' };

/** A number as Python prints it in these messages: integers as ints, other values as Python's float repr. */
export const pyNumber = (v: number): string => (Number.isInteger(v) ? String(v) : pyFloat(v));

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Base class of the optimizers. Subclasses implement `step()` as one native call per group. */
export abstract class Optimizer {
  readonly paramGroups: ParamGroup[] = [];
  /** Per-parameter state, keyed by the parameter tensor. */
  readonly state = new Map<Tensor, Record<string, Tensor | number>>();
  /** The option defaults of this optimizer (camelCase). */
  readonly defaults: Record<string, unknown>;
  /** Keys PyTorch stores in each group beyond the options we use (e.g. foreach: null), for state-dict fidelity. */
  protected readonly extraGroupKeys: Record<string, unknown>;

  protected constructor(params: ParamsArg, defaults: Record<string, unknown>, extraGroupKeys: Record<string, unknown> = {}) {
    this.defaults = defaults;
    this.extraGroupKeys = extraGroupKeys;
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new RangeError('optimizer got an empty parameter list');
    const groups = list[0] instanceof Tensor ? [{ params: list as Tensor[] }] : (list as ({ params: Iterable<Tensor> } & Record<string, unknown>)[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a group; options it does not set take the optimizer's defaults. */
  addParamGroup(group: { params: Iterable<Tensor> } & Record<string, unknown>): void {
    if (group === null || typeof group !== 'object' || !('params' in group)) throw new TypeError(`a param group must be an object with params, got ${describe(group)}`);
    const params = group.params instanceof Tensor ? [group.params] : [...group.params];
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new TypeError(`optimizer params must be Tensors, got ${describe(p)}`);
      if (!p.isLeaf) throw new TypeError("can't optimize a non-leaf Tensor");
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => seen.has(p))) throw new RangeError('some parameters appear in more than one parameter group');
    // A group may carry an implementation switch too (PyTorch keeps it per group): the same check as the constructor's.
    checkFlags(`optim.${this.constructor.name}`, group as FlagOptions, Object.keys(this.extraGroupKeys).filter((k) => FLAGS.includes(k)));
    const out: ParamGroup = { ...this.defaults, ...group, params } as ParamGroup;
    for (const [k, v] of Object.entries(out)) {
      if (k !== 'params' && v === undefined) throw new TypeError(`parameter group didn't specify a value of required optimization parameter ${k}`);
    }
    this.validateGroup(out);
    this.paramGroups.push(out);
  }

  /** Checks a group's options (TypeError for wrong types, RangeError for invalid values). */
  protected abstract validateGroup(group: ParamGroup): void;

  /** Performs one optimization step. */
  abstract step(): void;

  /** Clears gradients: to null by default (PyTorch 2.x), or to zeros with `{setToNone: false}`. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    N.zeroGrad(this.paramGroups.flatMap((g) => g.params.map((p) => p.h)), options.setToNone ?? true);
  }

  /** @internal */
  protected static checkNumber(group: ParamGroup, key: string, min = 0): number {
    const v = group[key];
    if (typeof v !== 'number') throw new TypeError(`Expected a number for ${key} but received ${describe(v)}`);
    if (!(v >= min) || !Number.isFinite(v)) throw new RangeError(`Invalid ${RANGE_LABELS[key] ?? `${snake(key)} value`}: ${pyNumber(v)}`);
    return v;
  }

  /** The state dict in PyTorch's layout (tensors are the optimizer's own). */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    let next = 0;
    const param_groups = this.paramGroups.map((g) => {
      const packed: Record<string, ParamGroupValue> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') packed[snake(k)] = (Array.isArray(v) ? [...v] : v) as ParamGroupValue;
      for (const [k, v] of Object.entries(this.extraGroupKeys)) if (!(k in packed)) packed[k] = v as ParamGroupValue;
      packed.params = g.params.map((p) => {
        if (!index.has(p)) index.set(p, next++);
        return index.get(p) as number;
      });
      return packed;
    });
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[String(i)] = { ...s };
    }
    return { state, param_groups };
  }

  /** Loads a state dict (from torchkd or from Python's optimizer.state_dict() via torch.load). */
  loadStateDict(sd: OptimizerStateDict): void {
    if (sd === null || typeof sd !== 'object' || !Array.isArray(sd.param_groups) || sd.state === null || typeof sd.state !== 'object') {
      throw new TypeError('loadStateDict expects {state, param_groups} as made by stateDict()');
    }
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw new TorchError('loaded state dict has a different number of parameter groups', 'VALUE_ERROR');
    }
    const byIndex = new Map<number, Tensor>();
    sd.param_groups.forEach((g, gi) => {
      const ids = g.params as number[];
      const mine = this.paramGroups[gi].params;
      if (!Array.isArray(ids) || ids.length !== mine.length) {
        throw new TorchError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group", 'VALUE_ERROR');
      }
      ids.forEach((id, k) => byIndex.set(id, mine[k]));
    });
    sd.param_groups.forEach((g, gi) => {
      for (const [k, v] of Object.entries(g)) {
        if (k === 'params' || k in this.extraGroupKeys) continue;
        this.paramGroups[gi][camel(k)] = Array.isArray(v) ? [...v] : v;
      }
    });
    this.state.clear();
    for (const [id, s] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(id));
      if (!p) continue;
      const copy: Record<string, Tensor | number> = {};
      for (const [k, v] of Object.entries(s)) {
        // State tensors follow the parameter's device (and dtype for floating state), as PyTorch casts them.
        if (v instanceof Tensor) copy[k] = k === 'step' ? v.clone() : v.to({ device: p.device, dtype: isFloatingPoint(v.dtype) ? p.dtype : v.dtype, copy: true });
        else copy[k] = v;
      }
      this.state.set(p, copy);
    }
  }

  /** @internal Handles of a group's parameters. */
  protected handles(group: ParamGroup): number[] {
    return group.params.map((p) => handleOf(p));
  }
}
