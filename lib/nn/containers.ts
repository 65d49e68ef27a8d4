/**
 * Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict — registered children, indexing
 * (`seq[0]`, `seq[-1]`, `list[i] = m`), slicing, iteration and PyTorch's printout.
 */
import { native } from '../binding';
import { describe } from '../dtype';
import { Tensor } from '../tensor';
import { Module, Parameter, currentHookEpoch, isParameter } from './module';
import { addIndent } from './repr';

const N = native();

function indexOf(index: unknown, length: number, what: string): number {
  if (typeof index !== 'number' || !Number.isInteger(index)) throw new TypeError(`${what} indices must be integers, not ${describe(index)}`);
  const i = index < 0 ? length + index : index;
  if (i < 0 || i >= length) throw new RangeError(`index ${index} is out of range for a ${what} of ${length}`);
  return i;
}

/** The values of an iterable argument; anything else is a TypeError naming what was expected. */
function valuesOf<T>(values: unknown, what: string, of: string): T[] {
  if (values === null || values === undefined || typeof (values as Iterable<T>)[Symbol.iterator] !== 'function' || typeof values === 'string') {
    throw new TypeError(`${what} expects an iterable of ${of} but received ${describe(values)}`);
  }
  return [...(values as Iterable<T>)];
}

/** A dictionary argument's entries: a plain object's (sorted when `sort`), or an iterable of [key, value] pairs. */
function entriesOf<T>(values: unknown, what: string, of: string, sort: boolean): [string, T][] {
  const expected = `${what} expects an object or an iterable of [key, ${of}] pairs but received`;
  if (values === null || typeof values !== 'object') throw new TypeError(`${expected} ${describe(values)}`);
  if (!(Symbol.iterator in values)) {
    const entries = Object.entries(values as Record<string, T>);
    return sort ? entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : entries;
  }
  const pairs = [...(values as Iterable<unknown>)];
  for (const e of pairs) if (!Array.isArray(e) || e.length !== 2) throw new TypeError(`${expected} an iterable holding ${describe(e)}`);
  return pairs as [string, T][];
}

function checkModule(m: unknown, what: string): Module {
  if (!(m instanceof Module)) throw new TypeError(`${what} expects Modules but received ${describe(m)}`);
  return m;
}

/**
 * Runs its children in order (each through `call`, so their hooks run). Children are named '0', '1', ... (or by key
 * when built from an object, like an OrderedDict). When every child is a native layer (or a native Sequential) and no
 * hook is registered below, the whole forward is one native call.
 *
 * @example
 * const mlp = new nn.Sequential(new nn.Linear(784, 100), new nn.ReLU(), new nn.Linear(100, 10));
 * mlp[0].weight;            // the first Linear's weight
 * const head = mlp.slice(1); // a Sequential of the last two, sharing them
 */
class SequentialModule<M extends Module = Module> extends Module<[Tensor], Tensor> {
  protected static override indexable = true;
  /** `seq[i]`: the child at an index (negative counts from the end). */
  [index: number]: M;
  private _seqNative: number | null | undefined = undefined;
  private _seqEpoch = -1;

  constructor(...modules: M[] | [Record<string, M>]) {
    super();
    const entries: [string, unknown][] =
      modules.length === 1 && !(modules[0] instanceof Module) && typeof modules[0] === 'object' && modules[0] !== null
        ? Object.entries(modules[0] as Record<string, M>)
        : (modules as M[]).map((m, i) => [String(i), m]);
    for (const [name, m] of entries) this._modules.set(name, checkModule(m, 'Sequential'));
  }

  override registerModule(name: string, module: Module | null): void {
    super.registerModule(name, module);
    this._seqNative = undefined;
  }

  /** Appends a module (named by its index). */
  append(module: M): this {
    this.registerModule(String(this._modules.size), checkModule(module, 'Sequential.append'));
    return this;
  }

  /** Appends each module of an iterable. */
  extend(modules: Iterable<M>): this {
    for (const m of valuesOf<M>(modules, 'Sequential.extend', 'Modules')) this.append(m);
    return this;
  }

  /** Inserts a module at an index, shifting the later ones (PyTorch's insert; an index outside [-n, n] is an error). */
  insert(index: number, module: M): this {
    checkModule(module, 'Sequential.insert');
    const n = this._modules.size;
    if (typeof index !== 'number' || !Number.isInteger(index)) throw new TypeError(`Sequential.insert: expected an integer index but received ${describe(index)}`);
    if (!(-n <= index && index <= n)) throw new RangeError(`Index out of range: ${index}`);
    const i = index < 0 ? index + n : index;
    const list = [...this._modules.values()] as (M | null)[];
    list.splice(i, 0, module);
    this.renumber(list);
    return this;
  }

  /** Removes and returns the module at an index (default the last); the rest are renumbered 0..n−1, as PyTorch's. */
  pop(index = -1): M {
    const list = [...this._modules.values()] as (M | null)[];
    const i = indexOf(index, list.length, 'Sequential');
    const [m] = list.splice(i, 1);
    this.renumber(list);
    return m as M;
  }

  /** @internal `delete seq[i]` (PyTorch's `del seq[i]`). */
  deleteAt(index: number): void {
    this.pop(index);
  }

  // PyTorch renumbers the children '0'..'n−1' after an insert or a deletion.
  private renumber(list: (M | null)[]): void {
    this._modules.clear();
    list.forEach((m, k) => this._modules.set(String(k), m));
    this._seqNative = undefined;
  }

  get length(): number {
    return this._modules.size;
  }

  /** The child at an index (negative counts from the end). */
  at(index: number): M {
    const list = [...this._modules.values()];
    return list[indexOf(index, list.length, 'Sequential')] as M;
  }

  /** @internal `seq[i] = m`. */
  setAt(index: number, value: unknown): void {
    const keys = [...this._modules.keys()];
    this._modules.set(keys[indexOf(index, keys.length, 'Sequential')], checkModule(value, 'Sequential'));
    this._seqNative = undefined;
  }

  /** Python's `seq[start:end]`: a Sequential of those children (shared, not copied), keeping their names. */
  slice(start?: number, end?: number): Sequential<M> {
    const entries = [...this._modules.entries()].slice(start, end) as [string, M][];
    return new SequentialModule<M>(Object.fromEntries(entries) as Record<string, M>);
  }

  *[Symbol.iterator](): IterableIterator<M> {
    for (const m of this._modules.values()) if (m !== null) yield m as M;
  }

  override nativeHandle(): number | null {
    if (this._hasHooks()) return null;
    const epoch = currentHookEpoch();
    if (this._seqNative === undefined || this._seqEpoch !== epoch) {
      this._seqEpoch = epoch;
      const kids = [...this._modules.entries()];
      const handles = kids.map(([, m]) => (m === null ? null : m.nativeHandle()));
      if (kids.length && handles.every((h) => h !== null)) {
        const h = N.createSequential(
          kids.map(([n]) => n),
          handles as number[],
        );
        this._setNative(h);
        this._seqNative = h;
      } else {
        this._seqNative = null;
      }
    }
    return this._seqNative;
  }

  override forward(x: Tensor): Tensor {
    if (this.nativeHandle() !== null) return super.forward(x);
    let out: unknown = x;
    for (const m of this._modules.values()) if (m !== null) out = (m as Module<[unknown], unknown>).call(out);
    return out as Tensor;
  }
}

/**
 * Holds submodules in a list, registered as '0', '1', ...; indexable (`list[i]`), iterable, sliceable. It has no
 * forward: iterate it in yours.
 *
 * @example
 * this.blocks = new nn.ModuleList([1, 2, 3].map(() => new nn.Linear(8, 8)));
 * for (const b of this.blocks) x = b.call(x);
 */
class ModuleListModule<M extends Module = Module> extends Module<never[], never> {
  protected static override indexable = true;
  /** `list[i]`: the module at an index (negative counts from the end). */
  [index: number]: M;

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of valuesOf<M>(modules, 'ModuleList', 'Modules')) this.append(m);
  }

  get length(): number {
    return this._modules.size;
  }

  at(index: number): M {
    const list = [...this._modules.values()];
    return list[indexOf(index, list.length, 'ModuleList')] as M;
  }

  /** @internal `list[i] = m`. */
  setAt(index: number, value: unknown): void {
    this._modules.set(String(indexOf(index, this._modules.size, 'ModuleList')), checkModule(value, 'ModuleList'));
  }

  append(module: M): this {
    this._modules.set(String(this._modules.size), checkModule(module, 'ModuleList.append'));
    return this;
  }

  extend(modules: Iterable<M>): this {
    for (const m of valuesOf<M>(modules, 'ModuleList.extend', 'Modules')) this.append(m);
    return this;
  }

  /** Inserts a module before an index (Python list semantics: an index past either end inserts at that end). */
  insert(index: number, module: M): this {
    checkModule(module, 'ModuleList.insert');
    if (typeof index !== 'number' || !Number.isInteger(index)) throw new TypeError(`ModuleList.insert: expected an integer index but received ${describe(index)}`);
    const list = [...this._modules.values()] as M[];
    const n = list.length;
    const i = index < 0 ? Math.max(0, n + index) : Math.min(index, n);
    list.splice(i, 0, module);
    this._modules.clear();
    list.forEach((m, k) => this._modules.set(String(k), m));
    return this;
  }

  pop(index = -1): M {
    const list = [...this._modules.values()] as M[];
    const i = indexOf(index, list.length, 'ModuleList');
    const [m] = list.splice(i, 1);
    this._modules.clear();
    list.forEach((x, k) => this._modules.set(String(k), x));
    return m;
  }

  /** @internal `delete list[i]`. */
  deleteAt(index: number): void {
    this.pop(index);
  }

  /** Python's `list[start:end]`: a ModuleList of those modules (shared). */
  slice(start?: number, end?: number): ModuleList<M> {
    return new ModuleListModule<M>(([...this._modules.values()] as M[]).slice(start, end));
  }

  *[Symbol.iterator](): IterableIterator<M> {
    for (const m of this._modules.values()) yield m as M;
  }

  override forward(): never {
    throw new TypeError('ModuleList has no forward; iterate over it and call its modules');
  }

  /** PyTorch's ModuleList printout, which folds runs of identical children: `(0-2): 3 x Linear(...)`. */
  override toString(): string {
    const reprs = [...this._modules.values()].map((m) => String(m));
    if (!reprs.length) return `${this.constructor.name}()`;
    const blocks: [number, number, string][] = [[0, 0, reprs[0]]];
    for (let i = 1; i < reprs.length; i++) {
      const last = blocks[blocks.length - 1];
      if (reprs[i] === last[2]) last[1] = i;
      else blocks.push([i, i, reprs[i]]);
    }
    const lines = blocks.map(([s, e, r]) => addIndent(s === e ? `(${s}): ${r}` : `(${s}-${e}): ${e - s + 1} x ${r}`, 2));
    return `${this.constructor.name}(\n  ${lines.join('\n  ')}\n)`;
  }
}

/**
 * Holds submodules by name (an ordered dictionary); each is also a property (`dict.conv`), as in PyTorch.
 *
 * @example
 * this.heads = new nn.ModuleDict({ cls: new nn.Linear(64, 10), box: new nn.Linear(64, 4) });
 * const logits = this.heads.get('cls').call(h);
 */
class ModuleDictModule<M extends Module = Module> extends Module<never[], never> {
  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    this.update(modules);
  }

  get length(): number {
    return this._modules.size;
  }

  get(key: string): M {
    const m = this._modules.get(key);
    if (m === undefined) throw new RangeError(`ModuleDict has no key '${key}'`);
    return m as M;
  }

  set(key: string, module: M): this {
    if (typeof key === 'string' && !this._modules.has(key) && key in this) throw new RangeError(`ModuleDict: the key '${key}' would hide a ModuleDict member; choose another name`);
    this.registerModule(key, checkModule(module, 'ModuleDict.set'));
    return this;
  }

  has(key: string): boolean {
    return this._modules.has(key);
  }

  /** Removes a key and returns its module. */
  pop(key: string): M {
    const m = this.get(key);
    this._modules.delete(key);
    delete (this as unknown as Record<string, unknown>)[key];
    return m;
  }

  clear(): void {
    for (const k of [...this._modules.keys()]) this.pop(k);
  }

  keys(): string[] {
    return [...this._modules.keys()];
  }

  values(): M[] {
    return [...this._modules.values()] as M[];
  }

  items(): [string, M][] {
    return [...this._modules.entries()] as [string, M][];
  }

  update(modules: Record<string, M> | Iterable<[string, M]>): this {
    for (const [k, m] of entriesOf<M>(modules, 'ModuleDict', 'module', false)) this.set(k, m);
    return this;
  }

  /** Iterates over the keys, as a Python dict. */
  *[Symbol.iterator](): IterableIterator<string> {
    yield* this._modules.keys();
  }

  override forward(): never {
    throw new TypeError('ModuleDict has no forward; look its modules up and call them');
  }
}

// The public constructors: the class, typed so that children keep their own types — `seq[0]` of
// `new nn.Sequential(new nn.Conv2d(...), new nn.ReLU())` is a Conv2d, `seq.fc` of `new nn.Sequential({fc, act})` is
// the fc layer, `list[1]` and `dict.cls` likewise — while `class Block extends nn.Sequential` still works.
type Indexed<T> = { readonly [K in keyof T as K extends `${number}` ? K : never]: T[K] };
type Named<R> = { readonly [K in keyof R]: R[K] };

/** `new nn.Sequential(...)`: see {@link SequentialModule}. */
export interface SequentialConstructor {
  new <T extends Module[]>(...modules: T): SequentialModule<T[number]> & Indexed<T>;
  new <R extends Record<string, Module>>(modules: R): SequentialModule<R[keyof R]> & Named<R>;
  new (...modules: Module[] | [Record<string, Module>]): SequentialModule;
  readonly prototype: SequentialModule;
}
/** `new nn.ModuleList([...])`. */
export interface ModuleListConstructor {
  new <T extends Module[]>(modules: [...T]): ModuleListModule<T[number]> & Indexed<T>;
  new <M extends Module = Module>(modules?: Iterable<M>): ModuleListModule<M>;
  readonly prototype: ModuleListModule;
}
/** `new nn.ModuleDict({...})`. */
export interface ModuleDictConstructor {
  new <R extends Record<string, Module>>(modules: R): ModuleDictModule<R[keyof R]> & Named<R>;
  new <M extends Module = Module>(modules?: Record<string, M> | Iterable<[string, M]>): ModuleDictModule<M>;
  readonly prototype: ModuleDictModule;
}

for (const [cls, name] of [
  [SequentialModule, 'Sequential'],
  [ModuleListModule, 'ModuleList'],
  [ModuleDictModule, 'ModuleDict'],
] as const) {
  Object.defineProperty(cls, 'name', { value: name });
}

/**
 * Runs its children in order (each through `call`, so their hooks run). Children are named '0', '1', ... (or by key
 * when built from an object, like an OrderedDict). When every child is a native layer (or a native Sequential) and no
 * hook is registered below, the whole forward is one native call.
 *
 * @example
 * const mlp = new nn.Sequential(new nn.Linear(784, 100), new nn.ReLU(), new nn.Linear(100, 10));
 * mlp[0].weight;            // the first Linear's weight (typed)
 * const head = mlp.slice(1); // a Sequential of the last two, sharing them
 */
export const Sequential = SequentialModule as unknown as SequentialConstructor;
/** A Sequential whose children are Ms. */
export type Sequential<M extends Module = Module> = SequentialModule<M>;
/**
 * Holds submodules in a list, registered as '0', '1', ...; indexable (`list[i]`), iterable, sliceable. It has no
 * forward: iterate it in yours.
 *
 * @example
 * this.blocks = new nn.ModuleList([1, 2, 3].map(() => new nn.Linear(8, 8)));
 * for (const b of this.blocks) x = b.call(x);
 */
export const ModuleList = ModuleListModule as unknown as ModuleListConstructor;
/** A ModuleList of Ms. */
export type ModuleList<M extends Module = Module> = ModuleListModule<M>;
/**
 * Holds submodules by name (an ordered dictionary); each is also a property (`dict.cls`), as in PyTorch.
 *
 * @example
 * this.heads = new nn.ModuleDict({ cls: new nn.Linear(64, 10), box: new nn.Linear(64, 4) });
 * const logits = this.heads.cls.call(h);
 */
export const ModuleDict = ModuleDictModule as unknown as ModuleDictConstructor;
/** A ModuleDict of Ms. */
export type ModuleDict<M extends Module = Module> = ModuleDictModule<M>;
export type { SequentialModule, ModuleListModule, ModuleDictModule };

const TYPENAME: Record<string, string> = {
  float32: 'FloatTensor',
  float64: 'DoubleTensor',
  float16: 'HalfTensor',
  bfloat16: 'BFloat16Tensor',
  int64: 'LongTensor',
  int32: 'IntTensor',
  int16: 'ShortTensor',
  int8: 'CharTensor',
  uint8: 'ByteTensor',
  bool: 'BoolTensor',
};

// PyTorch's line per parameter: ParameterList names the dtype, ParameterDict the legacy type name (torch.typename).
function parameterLine(key: string, p: Tensor, typename: boolean): string {
  const size = p.shape.join('x');
  const cuda = p.device !== 'cpu';
  const device = cuda ? ` (${p.device})` : '';
  const type = typename ? `torch.${cuda ? 'cuda.' : ''}${TYPENAME[p.dtype]}` : `torch.${p.dtype}`;
  return `(${key}): ${isParameter(p) ? 'Parameter' : 'Tensor'} containing: [${type} of size ${size}${device}]`;
}

/**
 * Holds parameters in a list, registered as '0', '1', ...; a tensor appended becomes a Parameter.
 *
 * @example
 * this.scales = new nn.ParameterList([torch.ones(4), torch.ones(8)]);
 */
export class ParameterList extends Module<never[], never> {
  protected static override indexable = true;
  /** `list[i]`: the parameter at an index. */
  [index: number]: Tensor;

  constructor(values: Iterable<Tensor> = []) {
    super();
    for (const v of valuesOf<Tensor>(values, 'ParameterList', 'Tensors')) this.append(v);
  }

  get length(): number {
    return this._parameters.size;
  }

  at(index: number): Tensor {
    const list = [...this._parameters.values()];
    return list[indexOf(index, list.length, 'ParameterList')] as Tensor;
  }

  /** @internal `list[i] = t`. */
  setAt(index: number, value: unknown): void {
    if (!(value instanceof Tensor)) throw new TypeError(`ParameterList holds Tensors, not ${describe(value)}`);
    this._parameters.set(String(indexOf(index, this._parameters.size, 'ParameterList')), isParameter(value) ? value : Parameter(value));
  }

  /** @internal `delete list[i]`: refused, as PyTorch's ParameterList has no `__delitem__` (the numbering would break). */
  deleteAt(index: number): void {
    throw new TypeError(`ParameterList does not support deleting items (delete list[${index}])`);
  }

  append(value: Tensor): this {
    if (!(value instanceof Tensor)) throw new TypeError(`ParameterList holds Tensors, not ${describe(value)}`);
    this._parameters.set(String(this._parameters.size), isParameter(value) ? value : Parameter(value));
    return this;
  }

  extend(values: Iterable<Tensor>): this {
    for (const v of valuesOf<Tensor>(values, 'ParameterList.extend', 'Tensors')) this.append(v);
    return this;
  }

  *[Symbol.iterator](): IterableIterator<Tensor> {
    for (const p of this._parameters.values()) yield p as Tensor;
  }

  override forward(): never {
    throw new TypeError('ParameterList has no forward');
  }

  override extraRepr(): string {
    return [...this._parameters.entries()].map(([k, p]) => `  ${parameterLine(k, p as Tensor, false)}`).join('\n');
  }
}

/** Holds parameters by name; a tensor set becomes a Parameter. */
export class ParameterDict extends Module<never[], never> {
  /** A plain object's keys are taken in sorted order (PyTorch sorts a dict's); a Map or [key, value] pairs keep theirs. */
  constructor(values: Record<string, Tensor> | Iterable<[string, Tensor]> = {}) {
    super();
    for (const [k, v] of entriesOf<Tensor>(values, 'ParameterDict', 'Tensor', true)) this.set(k, v);
  }

  get length(): number {
    return this._parameters.size;
  }

  get(key: string): Tensor {
    const p = this._parameters.get(key);
    if (p === undefined || p === null) throw new RangeError(`ParameterDict has no key '${key}'`);
    return p;
  }

  set(key: string, value: Tensor): this {
    if (!(value instanceof Tensor)) throw new TypeError(`ParameterDict holds Tensors, not ${describe(value)}`);
    if (typeof key === 'string' && !this._parameters.has(key) && key in this) throw new RangeError(`ParameterDict: the key '${key}' would hide a ParameterDict member; choose another name`);
    this.registerParameter(key, isParameter(value) ? value : Parameter(value));
    return this;
  }

  has(key: string): boolean {
    return this._parameters.has(key);
  }

  keys(): string[] {
    return [...this._parameters.keys()];
  }

  values(): Tensor[] {
    return [...this._parameters.values()] as Tensor[];
  }

  items(): [string, Tensor][] {
    return [...this._parameters.entries()] as [string, Tensor][];
  }

  *[Symbol.iterator](): IterableIterator<string> {
    yield* this._parameters.keys();
  }

  override forward(): never {
    throw new TypeError('ParameterDict has no forward');
  }

  override extraRepr(): string {
    return [...this._parameters.entries()].map(([k, p]) => `  ${parameterLine(k, p as Tensor, true)}`).join('\n');
  }
}
