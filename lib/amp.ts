/**
 * Automatic mixed precision, as `torch.amp`: {@link autocast} regions and the {@link GradScaler}.
 *
 * Autocast is libtorch's own (thread-local dispatcher state), so inside a region every op picks its precision by
 * libtorch's lists, exactly as in Python: libtorch modules, TorchScript modules and functional ops alike. The
 * scaler runs PyTorch's two kernels (`_amp_foreach_non_finite_check_and_unscale_`, `_amp_update_scale_`) with
 * PyTorch's bookkeeping, so a recipe ported line by line sees the same scales and the same skipped steps.
 */
import { DType, describe, dtypeCode, dtypeName, isFloatingPoint } from './dtype';
import { TorchError, refuseAsync } from './errors';
import type { Optimizer } from './optim/optimizer';
import { N, Tensor, cudaAvailable, keep, tidy, wrap } from './tensor';

/** The device types autocast knows: `'cuda'` or `'cpu'` (a type, not a device such as `'cuda:1'`). */
export type AutocastDeviceType = 'cpu' | 'cuda';

/** Options of {@link autocast}, as `torch.autocast(device_type, dtype, enabled, cache_enabled)`. */
export interface AutocastOptions {
  /**
   * The lower precision: `'float16'` or `'bfloat16'` (CUDA also takes `'float32'`); by default the device type's
   * (float16 on CUDA, bfloat16 on the CPU). Another float dtype on the CPU disables the region, with a warning, as in
   * PyTorch.
   */
  dtype?: DType;
  /** `false` runs the region without autocast (a nested region can switch it off). Default true. */
  enabled?: boolean;
  /** Keep casts of leaf tensors (weights) for the region. Default: the current setting (on). */
  cacheEnabled?: boolean;
}

function deviceTypeCode(deviceType: unknown, fn: string): number {
  if (deviceType === 'cpu') return 0;
  if (deviceType === 'cuda') return 1;
  if (typeof deviceType === 'string' && /^cuda:\d+$/.test(deviceType)) {
    throw new RangeError(`${fn}: expected a device type ('cuda' or 'cpu') but received the device '${deviceType}'; autocast covers every CUDA device`);
  }
  throw new RangeError(`${fn}: expected the device type 'cuda' or 'cpu' but received ${describe(deviceType)}`);
}

const warned = new Set<string>();
function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  process.emitWarning(message, 'TorchkdWarning');
}

/**
 * Runs `fn` in an autocast region (PyTorch's `with torch.autocast(device_type, ...):`) and returns its result. The
 * previous state comes back when `fn` returns or throws. Regions nest. Synchronous functions only.
 *
 * On `'cuda'` without a usable device the region runs without autocast, after a warning, as in PyTorch.
 *
 * @example
 * const loss = torch.autocast('cuda', { dtype: 'bfloat16' }, () => torch.F.crossEntropy(model.forward(x), y));
 * loss.backward(); // outside the region, as in PyTorch
 */
export function autocast<R>(deviceType: AutocastDeviceType, fn: () => R): R;
export function autocast<R>(deviceType: AutocastDeviceType, options: AutocastOptions, fn: () => R): R;
export function autocast<R>(deviceType: AutocastDeviceType, a: AutocastOptions | (() => R), b?: () => R): R {
  const type = deviceTypeCode(deviceType, 'torch.autocast');
  const options = typeof a === 'function' ? {} : a;
  const fn = typeof a === 'function' ? a : b;
  if (options === null || typeof options !== 'object') throw new TypeError(`torch.autocast: expected options as an object but received ${describe(options)}`);
  if (typeof fn !== 'function') throw new TypeError(`torch.autocast: expected a function to run but received ${describe(fn)}`);
  const current = N.autocastState(type);
  const dtype = options.dtype === undefined ? current[1] : dtypeCode(options.dtype, 'torch.autocast dtype');
  const name = dtypeName(dtype);
  if (!isFloatingPoint(name)) throw new RangeError(`torch.autocast: dtype must be a floating dtype ('float16', 'bfloat16') but is '${options.dtype}'`);
  let enabled = options.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new TypeError(`torch.autocast: expected a boolean for enabled but received ${describe(enabled)}`);
  const cache = options.cacheEnabled ?? current[2];
  if (typeof cache !== 'boolean') throw new TypeError(`torch.autocast: expected a boolean for cacheEnabled but received ${describe(cache)}`);
  // What PyTorch's autocast.__init__ checks, with its outcomes: on CUDA a missing device disables the region (a
  // warning; bfloat16 passes its check on any CUDA GPU, emulated where not native); on the CPU a dtype other than
  // float16/bfloat16 disables it.
  if (enabled && type === 1) {
    if (!cudaAvailable()) {
      warnOnce('autocast-cuda', "torch.autocast: the device type is 'cuda' but no CUDA device is usable, so autocast is disabled for this region");
      enabled = false;
    }
  } else if (enabled && name !== 'float16' && name !== 'bfloat16') {
    warnOnce(`autocast-cpu-${name}`, `torch.autocast: CPU autocast supports float16 and bfloat16, not ${name}, so autocast is disabled for this region`);
    enabled = false;
  }
  const prev = N.autocastEnter(type, enabled, dtype, cache);
  try {
    return refuseAsync(fn(), 'torch.autocast only covers synchronous functions (libtorch ops an async function runs after its first await would run outside the region)');
  } finally {
    N.autocastExit(type, prev[0], prev[1], prev[2]);
  }
}

/** Whether autocast is on for `deviceType` here (`torch.is_autocast_enabled(device_type)`; default 'cuda'). */
export function isAutocastEnabled(deviceType: AutocastDeviceType = 'cuda'): boolean {
  return N.autocastState(deviceTypeCode(deviceType, 'torch.isAutocastEnabled'))[0];
}

/** The dtype autocast uses for `deviceType` (`torch.get_autocast_dtype`): the region's, or the default outside one. */
export function getAutocastDtype(deviceType: AutocastDeviceType): DType {
  return dtypeName(N.autocastState(deviceTypeCode(deviceType, 'torch.getAutocastDtype'))[1]);
}

/** Whether autocast supports `deviceType` (`torch.amp.is_autocast_available`): 'cpu' and 'cuda', GPU or not. */
export function isAutocastAvailable(deviceType: string): boolean {
  return deviceType === 'cpu' || deviceType === 'cuda';
}

/** Options of {@link GradScaler}, as PyTorch's constructor arguments. */
export interface GradScalerOptions {
  /** Starting scale. Default 2^16. */
  initScale?: number;
  /** Factor the scale grows by after `growthInterval` steps without inf/NaN gradients (> 1). Default 2. */
  growthFactor?: number;
  /** Factor the scale shrinks by when a step finds inf/NaN gradients (< 1). Default 0.5. */
  backoffFactor?: number;
  /** Consecutive clean steps before the scale grows. Default 2000. */
  growthInterval?: number;
  /** `false` makes every method a pass-through (`scale` returns its input, `step` just steps). Default true. */
  enabled?: boolean;
}

/** What {@link GradScaler.stateDict} returns, in PyTorch's keys (empty for a disabled scaler). */
export interface GradScalerState {
  scale?: number;
  growth_factor?: number;
  backoff_factor?: number;
  growth_interval?: number;
  _growth_tracker?: number;
}

/** What {@link GradScaler.scale} takes: a tensor, or arrays of them (nested). */
export type ScaleInput = Tensor | ScaleInput[];

type Stage = 'ready' | 'unscaled' | 'stepped';
interface OptimizerAmpState {
  stage: Stage;
  /** found_inf per device (a float32 scalar: 1 if any gradient was inf/NaN). */
  foundInf: Map<string, Tensor>;
}

function finiteNumber(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new TypeError(`GradScaler: expected a number for ${what} but received ${describe(v)}`);
  if (!Number.isFinite(v)) throw new RangeError(`GradScaler: ${what} must be finite but is ${v}`);
  return v;
}

function positiveNumber(v: unknown, what: string): number {
  if (finiteNumber(v, what) <= 0) throw new RangeError(`GradScaler: ${what} must be positive but is ${v}`);
  return v as number;
}

function countNumber(v: unknown, what: string, min: number): number {
  if (!Number.isInteger(finiteNumber(v, what)) || (v as number) < min) throw new RangeError(`GradScaler: ${what} must be an integer >= ${min} but is ${v}`);
  return v as number;
}

function checkOptimizer(optimizer: unknown, fn: string): asserts optimizer is Optimizer {
  const o = optimizer as Optimizer | null;
  if (o === null || typeof o !== 'object' || typeof o.step !== 'function' || !Array.isArray(o.paramGroups)) {
    throw new TypeError(`GradScaler.${fn}: expected an optimizer but received ${describe(optimizer)}`);
  }
}

/**
 * Loss scaling for float16 training (`torch.amp.GradScaler`): multiplies the loss so small gradients survive in
 * float16, unscales the gradients before the optimizer step, skips the step when any gradient is inf/NaN, and adapts
 * the scale.
 *
 * @example
 * const scaler = new torch.amp.GradScaler('cuda');
 * for (const [x, y] of loader) {
 *   opt.zeroGrad();
 *   const loss = torch.autocast('cuda', () => torch.F.crossEntropy(model.forward(x), y));
 *   scaler.scale(loss).backward();
 *   scaler.unscale_(opt); // only when clipping:
 *   torch.nn.utils.clipGradNorm_(model.parameters(), 1.0);
 *   scaler.step(opt);
 *   scaler.update();
 * }
 */
export class GradScaler {
  private readonly device: AutocastDeviceType;
  private readonly enabled: boolean;
  private initScale: number;
  private growthFactor: number;
  private backoffFactor: number;
  private growthInterval: number;
  private initGrowthTracker = 0;
  private scaleTensor: Tensor | null = null;
  private growthTracker: Tensor | null = null;
  private perOptimizer = new Map<Optimizer, OptimizerAmpState>();

  constructor(device: AutocastDeviceType = 'cuda', options: GradScalerOptions = {}) {
    deviceTypeCode(device, 'GradScaler');
    if (options === null || typeof options !== 'object') throw new TypeError(`GradScaler: expected options as an object but received ${describe(options)}`);
    const { initScale = 2 ** 16, growthFactor = 2, backoffFactor = 0.5, growthInterval = 2000, enabled = true } = options;
    if (typeof enabled !== 'boolean') throw new TypeError(`GradScaler: expected a boolean for enabled but received ${describe(enabled)}`);
    this.device = device;
    this.initScale = positiveNumber(initScale, 'initScale');
    this.growthFactor = positiveNumber(growthFactor, 'growthFactor');
    this.backoffFactor = positiveNumber(backoffFactor, 'backoffFactor');
    this.growthInterval = countNumber(growthInterval, 'growthInterval', 1);
    let on = enabled;
    if (on && device === 'cuda' && !cudaAvailable()) {
      warnOnce('gradscaler-cuda', "GradScaler: the device is 'cuda' but no CUDA device is usable, so the scaler is disabled");
      on = false;
    }
    this.enabled = on;
    if (on) {
      if (!(this.growthFactor > 1)) throw new RangeError(`GradScaler: the growth factor must be > 1.0 but is ${growthFactor}`);
      if (!(this.backoffFactor < 1)) throw new RangeError(`GradScaler: the backoff factor must be < 1.0 but is ${backoffFactor}`);
    }
  }

  /** Whether the scaler does anything (`is_enabled()`). */
  isEnabled(): boolean {
    return this.enabled;
  }

  private lazyInit(device: string): void {
    // Kept out of any tidy() scope around the call: they live as long as the scaler.
    this.scaleTensor = keep(wrap(N.full([], this.initScale, dtypeCode('float32'), deviceIndex(device), false)));
    this.growthTracker = keep(wrap(N.full([], this.initGrowthTracker, dtypeCode('int32'), deviceIndex(device), false)));
  }

  private check(fn: string): [Tensor, Tensor] {
    if (this.scaleTensor === null || this.growthTracker === null) {
      throw new TorchError(
        `GradScaler.${fn}: no scale yet; call scaler.scale(loss) earlier in the iteration`,
        'VALUE_ERROR',
      );
    }
    return [this.scaleTensor, this.growthTracker];
  }

  private state(optimizer: Optimizer): OptimizerAmpState {
    let s = this.perOptimizer.get(optimizer);
    if (!s) {
      s = { stage: 'ready', foundInf: new Map() };
      this.perOptimizer.set(optimizer, s);
    }
    return s;
  }

  /** `outputs` times the scale (a tensor, or each tensor of a nested array); unchanged when disabled. */
  scale(outputs: Tensor): Tensor;
  scale(outputs: Tensor[]): Tensor[];
  scale(outputs: ScaleInput[]): ScaleInput[];
  scale(outputs: Tensor | ScaleInput[]): Tensor | ScaleInput[] {
    if (!this.enabled) return outputs;
    const one = (t: unknown, depth: number): ScaleInput => {
      if (Array.isArray(t) && depth < 64) return t.map((x) => one(x, depth + 1));
      if (!(t instanceof Tensor)) throw new TypeError(`GradScaler.scale: expected a Tensor or an array of Tensors but received ${describe(t)}`);
      if (this.scaleTensor === null) this.lazyInit(t.device);
      const s = this.scaleTensor as Tensor;
      if (s.device === t.device) return t.mul(s);
      const moved = s.to(t.device, { nonBlocking: true });
      try {
        return t.mul(moved);
      } finally {
        moved.dispose();
      }
    };
    return one(outputs, 0) as Tensor | ScaleInput[];
  }

  /**
   * Divides the optimizer's gradients by the scale in place and records whether any is inf/NaN (`unscale_`).
   * Call it before clipping gradients; `step` calls it when it was not called.
   */
  unscale_(optimizer: Optimizer): void {
    if (!this.enabled) return;
    checkOptimizer(optimizer, 'unscale_');
    const [scale] = this.check('unscale_');
    const st = this.state(optimizer);
    if (st.stage === 'unscaled') throw new TorchError('GradScaler.unscale_() has already been called on this optimizer since the last update()', 'VALUE_ERROR');
    if (st.stage === 'stepped') throw new TorchError('GradScaler.unscale_() is being called after step()', 'VALUE_ERROR');
    // inv_scale in float64 then float32, as PyTorch computes it.
    const invScale = tidy(() => scale.to('float64').reciprocal().to('float32'));
    const grads = new Map<string, Tensor[]>();
    const foundInf = new Map<string, Tensor>();
    const invByDevice = new Map<string, Tensor>();
    try {
      for (const group of optimizer.paramGroups) {
        for (const p of group.params) {
          const g = p.grad;
          if (g === null) continue;
          if (g.dtype === 'float16') {
            g.dispose();
            throw new TorchError('GradScaler: attempting to unscale float16 gradients (keep the parameters in float32 and let autocast cast them)', 'VALUE_ERROR');
          }
          const key = `${g.device}/${g.dtype}`;
          const list = grads.get(key);
          if (list) list.push(g);
          else grads.set(key, [g]);
        }
      }
      for (const list of grads.values()) {
        const device = list[0].device;
        let inv = invByDevice.get(device);
        if (!inv) {
          inv = invScale.device === device ? invScale.clone() : invScale.to(device);
          invByDevice.set(device, inv);
          foundInf.set(device, keep(wrap(N.full([], 0, dtypeCode('float32'), deviceIndex(device), false)))); // read by step() and update()
        }
        N.ampUnscale(list.map((g) => g.h), (foundInf.get(device) as Tensor).h, inv.h);
      }
      st.foundInf = foundInf;
      st.stage = 'unscaled';
    } catch (e) {
      for (const f of foundInf.values()) f.dispose();
      throw e;
    } finally {
      invScale.dispose();
      for (const t of invByDevice.values()) t.dispose();
      for (const list of grads.values()) for (const g of list) g.dispose();
    }
  }

  /**
   * Unscales (unless `unscale_` was called) and runs `optimizer.step()` only if no gradient is inf/NaN; returns
   * whether it stepped. Disabled, it just steps.
   */
  step(optimizer: Optimizer): boolean {
    if (!this.enabled) {
      checkOptimizer(optimizer, 'step');
      optimizer.step();
      return true;
    }
    checkOptimizer(optimizer, 'step');
    this.check('step');
    const st = this.state(optimizer);
    if (st.stage === 'stepped') throw new TorchError('GradScaler.step() has already been called since the last update()', 'VALUE_ERROR');
    if (st.stage === 'ready') this.unscale_(optimizer);
    if (st.foundInf.size === 0) throw new TorchError('GradScaler.step: no inf checks were recorded for this optimizer (no parameter has a gradient)', 'VALUE_ERROR');
    let found = 0;
    for (const f of st.foundInf.values()) found += f.item() as number;
    const stepped = found === 0;
    if (stepped) optimizer.step();
    st.stage = 'stepped';
    return stepped;
  }

  /**
   * Updates the scale for the next iteration: backs off if this iteration found inf/NaN gradients, grows it after
   * `growthInterval` clean steps; or sets it to `newScale`.
   */
  update(newScale?: number | Tensor): void {
    if (!this.enabled) return;
    const [scale, tracker] = this.check('update');
    if (newScale !== undefined) {
      if (typeof newScale === 'number') {
        scale.fill_(positiveNumber(newScale, 'newScale'));
      } else if (newScale instanceof Tensor && newScale.numel() === 1 && !newScale.requiresGrad) {
        const v = newScale.reshape([]);
        try {
          scale.copy_(v);
        } finally {
          v.dispose();
        }
      } else {
        throw new TypeError('GradScaler.update: newScale must be a number or a one-element tensor that does not require grad');
      }
    } else {
      const found: Tensor[] = [];
      for (const st of this.perOptimizer.values()) for (const f of st.foundInf.values()) found.push(f);
      if (found.length === 0) throw new TorchError('GradScaler.update: no inf checks were recorded prior to update (call step() first)', 'VALUE_ERROR');
      const combined = found[0].to(scale.device, { copy: true });
      try {
        for (let i = 1; i < found.length; i++) {
          const f = found[i].to(scale.device);
          combined.add_(f);
          if (f !== found[i]) f.dispose();
        }
        N.ampUpdateScale(scale.h, tracker.h, combined.h, this.growthFactor, this.backoffFactor, this.growthInterval);
      } finally {
        combined.dispose();
      }
    }
    // Only after success, as PyTorch: a failed update keeps this iteration's inf checks.
    for (const st of this.perOptimizer.values()) for (const f of st.foundInf.values()) f.dispose();
    this.perOptimizer = new Map();
  }

  /** The current scale (`get_scale()`): the initial one before the first `scale`, 1 when disabled. */
  getScale(): number {
    if (!this.enabled) return 1;
    return this.scaleTensor === null ? this.initScale : (this.scaleTensor.item() as number);
  }

  getGrowthFactor(): number {
    return this.growthFactor;
  }
  setGrowthFactor(v: number): void {
    this.growthFactor = positiveNumber(v, 'growthFactor');
  }
  getBackoffFactor(): number {
    return this.backoffFactor;
  }
  setBackoffFactor(v: number): void {
    this.backoffFactor = positiveNumber(v, 'backoffFactor');
  }
  getGrowthInterval(): number {
    return this.growthInterval;
  }
  setGrowthInterval(v: number): void {
    this.growthInterval = countNumber(v, 'growthInterval', 1);
  }

  /** PyTorch's state dict (`scale`, `growth_factor`, `backoff_factor`, `growth_interval`, `_growth_tracker`). */
  stateDict(): GradScalerState {
    if (!this.enabled) return {};
    return {
      scale: this.getScale(),
      growth_factor: this.growthFactor,
      backoff_factor: this.backoffFactor,
      growth_interval: this.growthInterval,
      _growth_tracker: this.growthTracker === null ? this.initGrowthTracker : (this.growthTracker.item() as number),
    };
  }

  /** Restores a {@link stateDict} (also one saved by Python's `scaler.state_dict()`). */
  loadStateDict(sd: GradScalerState): void {
    if (!this.enabled) return;
    if (sd === null || typeof sd !== 'object') throw new TypeError(`GradScaler.loadStateDict: expected a state dict but received ${describe(sd)}`);
    if (Object.keys(sd).length === 0) {
      throw new TorchError('GradScaler.loadStateDict: the state dict is empty, possibly because it was saved from a disabled GradScaler', 'VALUE_ERROR');
    }
    // Everything is checked before anything changes.
    const scale = positiveNumber(sd.scale, 'scale');
    const tracker = countNumber(sd._growth_tracker, '_growth_tracker', 0);
    const growthFactor = positiveNumber(sd.growth_factor, 'growth_factor');
    const backoffFactor = positiveNumber(sd.backoff_factor, 'backoff_factor');
    const growthInterval = countNumber(sd.growth_interval, 'growth_interval', 1);
    this.growthFactor = growthFactor;
    this.backoffFactor = backoffFactor;
    this.growthInterval = growthInterval;
    this.initScale = scale;
    this.initGrowthTracker = tracker;
    if (this.scaleTensor !== null) this.scaleTensor.fill_(scale);
    if (this.growthTracker !== null) this.growthTracker.fill_(tracker);
  }
}

function deviceIndex(device: string): number {
  return device === 'cpu' ? -1 : Number(device.slice(5));
}
