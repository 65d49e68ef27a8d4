/**
 * torch.distributed's process groups: `initProcessGroup` (env://, tcp://, file:// rendezvous or a store),
 * `newGroup`, `destroyProcessGroup`, ranks and sizes. The bookkeeping is Python's `_World`: the default group is
 * named "0" and later groups "1", "2", … in creation order; the default store is `PrefixStore("default_pg", …)`, a
 * group's keys live under "<name>/" and its backend's under "<name>/<device>/". Python ranks and Node ranks built
 * this way meet on the same keys and can share one job.
 */
import { describe } from '../dtype';
import { TorchError } from '../errors';
import { dist } from './native';
import { FileStore, PrefixStore, Store, TCPStore } from './store';

/** The communication backends: 'gloo' (CPU tensors; the default) and 'nccl' (CUDA tensors, CUDA builds). */
export type Backend = 'gloo' | 'nccl';

/** Python's default process-group timeout (`default_pg_timeout`): 30 minutes. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

/**
 * A group of ranks that run collectives together (Python's `ProcessGroup`). The default group holds every rank;
 * {@link newGroup} makes others.
 *
 * @example
 * const g = dist.newGroup([0, 1]);
 * dist.allReduce(t, { group: g });
 */
export class ProcessGroup {
  /** @internal Native handle. */
  readonly _h: number;
  /** @internal The group's store (Python's pg_map entry): new groups are made under the default group's. */
  readonly _store: Store;
  /** @internal Global ranks of the group's members, in group-rank order. */
  readonly _ranks: readonly number[];
  /** The group's name ("0" for the default group, then "1", "2", … as Python names them). */
  readonly groupName: string;
  /** The backend it runs on. */
  readonly backend: Backend;
  /** How long its collectives may wait, in milliseconds. */
  readonly timeout: number;
  /** @internal Destroyed by destroyProcessGroup. */
  _destroyed = false;

  /** @internal */
  constructor(h: number, store: Store, ranks: number[], name: string, backend: Backend, timeout: number) {
    this._h = h;
    this.timeout = timeout;
    this._store = store;
    this._ranks = Object.freeze([...ranks]);
    this.groupName = name;
    this.backend = backend;
  }

  /** This process's rank in the group. */
  rank(): number {
    return dist().distGroupInfo(live(this, 'ProcessGroup.rank')._h)[0];
  }

  /** The number of ranks in the group. */
  size(): number {
    return dist().distGroupInfo(live(this, 'ProcessGroup.size')._h)[1];
  }
}

/** What {@link newGroup} returns on ranks that are not in the new group (Python's `GroupMember.NON_GROUP_MEMBER`). */
export interface NonGroupMember {
  readonly nonGroupMember: true;
}

const NON_GROUP_MEMBER: NonGroupMember = Object.freeze({ nonGroupMember: true as const });

/** A group argument: a {@link ProcessGroup}, {@link GroupMember}.NON_GROUP_MEMBER, or null/undefined (the default group). */
export type GroupArg = ProcessGroup | NonGroupMember | null | undefined;

// Python's _World: the default group, the other groups by name, and the counter that names them.
const world = {
  defaultGroup: null as ProcessGroup | null,
  groups: new Map<string, ProcessGroup>(),
  groupCount: 0,
};

/**
 * The default group and the non-member marker (Python's `GroupMember`): `WORLD` is the default group once
 * {@link initProcessGroup} has run (null before).
 *
 * @example
 * if (group !== dist.GroupMember.NON_GROUP_MEMBER) dist.allReduce(t, { group });
 */
export const GroupMember = Object.freeze({
  get WORLD(): ProcessGroup | null {
    return world.defaultGroup;
  },
  NON_GROUP_MEMBER,
});

function live(g: ProcessGroup, fn: string): ProcessGroup {
  if (g._destroyed) throw new TorchError(`${fn}: the process group '${g.groupName}' was destroyed`, 'VALUE_ERROR');
  return g;
}

/** @internal The default group, or Python's error when none was initialised. */
export function defaultGroup(): ProcessGroup {
  if (world.defaultGroup === null) {
    throw new TorchError('Default process group has not been initialized, please make sure to call initProcessGroup.', 'VALUE_ERROR');
  }
  return world.defaultGroup;
}

/** @internal A group argument resolved: the group, or null when this rank is not a member. */
export function resolveGroup(group: unknown, fn: string): ProcessGroup | null {
  if (group === undefined || group === null) return defaultGroup();
  if (group === NON_GROUP_MEMBER) {
    defaultGroup();
    return null;
  }
  if (!(group instanceof ProcessGroup)) throw new TypeError(`${fn}: expected a ProcessGroup for group but received ${describe(group)}`);
  return live(group, fn);
}

/** @internal Python's _warn_not_in_group. */
export function warnNotInGroup(op: string): void {
  const rank = world.defaultGroup ? world.defaultGroup.rank() : -1;
  process.emitWarning(`Running ${op} on global rank ${rank} which does not belong to the given group.`, 'TorchkdWarning');
}

function checkTimeout(fn: string, ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) throw new RangeError(`${fn}: timeout must be a positive number of milliseconds but received ${describe(ms)}`);
  return ms;
}

function checkBackend(fn: string, b: unknown): Backend {
  if (b !== 'gloo' && b !== 'nccl') {
    throw new RangeError(`${fn}: unknown backend ${describe(b)} (torchkd supports 'gloo' and 'nccl')`);
  }
  const caps = dist().distCapabilities();
  if (!caps) throw new TorchError('torch.distributed is not available: this libtorch was built without it', 'NOT_IMPLEMENTED');
  if (!caps[b]) {
    throw new TorchError(
      b === 'gloo' ? "Distributed package doesn't have Gloo built in" : "Distributed package doesn't have NCCL built in (it needs torchkd's CUDA build over a CUDA libtorch)",
      'NOT_IMPLEMENTED',
    );
  }
  return b;
}

// Python's _new_process_group_helper, for a member rank.
function newProcessGroup(size: number, rank: number, globalRanks: number[], backend: Backend, store: Store, name: string, timeout: number, desc: string): ProcessGroup {
  const [h, storeH] = dist().distNewGroup(store._h, rank, size, backend, timeout, name, globalRanks, desc);
  const members = globalRanks.length ? globalRanks : Array.from({ length: size }, (_, i) => i);
  const pg = new ProcessGroup(h, new Store(storeH), members, name, backend, timeout);
  world.groups.set(name, pg);
  return pg;
}

// ---- rendezvous -----------------------------------------------------------------------------------------------

function rendezvousError(msg: string): TorchError {
  return new TorchError(`Error initializing torch.distributed using ${msg}`, 'VALUE_ERROR');
}

function query(search: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of search.replace(/^\?/, '').split('&').filter(Boolean)) {
    const [k, v = ''] = pair.split('=');
    out.set(k, v);
  }
  return out;
}

function intFrom(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw rendezvousError(`${what} is not an integer: ${describe(text)}`);
  return n;
}

/** Python's rendezvous(url, rank, world_size): the store, the rank and the world size. */
function rendezvous(url: string, rank: number, worldSize: number, timeout: number): { store: Store; rank: number; worldSize: number } {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(url);
  if (!m) throw new TorchError(`No rendezvous handler for ${url}`, 'TORCH_ERROR');
  const scheme = m[1];
  const rest = m[2];
  const qAt = rest.indexOf('?');
  const q = query(qAt >= 0 ? rest.slice(qAt + 1) : '');
  const location = qAt >= 0 ? rest.slice(0, qAt) : rest;
  if (rank !== -1 || worldSize !== -1) {
    if (q.has('rank') || q.has('world_size')) throw new TorchError(`The url: ${url} has node-specific arguments(rank, world_size) already.`, 'VALUE_ERROR');
    if (rank !== -1) q.set('rank', String(rank));
    if (worldSize !== -1) q.set('world_size', String(worldSize));
  }
  const useLibuv = (q.get('use_libuv') ?? process.env.USE_LIBUV ?? '1') === '1';
  if (scheme === 'file') {
    const err = (msg: string): TorchError => rendezvousError(`file:// rendezvous: ${msg}`);
    const file = decodeURIComponent(location.replace(/^[^/]*/, ''));
    if (!file) throw err('path missing');
    if (!q.has('rank')) throw err('rank parameter missing');
    if (!q.has('world_size')) throw err('world size parameter missing');
    const r = intFrom(q.get('rank')!, 'rank');
    const w = intFrom(q.get('world_size')!, 'world_size');
    return { store: new FileStore(file, w), rank: r, worldSize: w };
  }
  if (scheme === 'tcp') {
    const err = (msg: string): TorchError => rendezvousError(`tcp:// rendezvous: ${msg}`);
    const hp = /^(\[[^\]]+\]|[^:/]*)(?::(\d*))?\/?$/.exec(location);
    if (!hp || hp[2] === undefined || hp[2] === '') throw err('port number missing');
    if (!q.has('rank')) throw err('rank parameter missing');
    if (!q.has('world_size')) throw err('world size parameter missing');
    const r = intFrom(q.get('rank')!, 'rank');
    const w = intFrom(q.get('world_size')!, 'world_size');
    const host = hp[1].replace(/^\[|\]$/g, '');
    return { store: c10dStore(host, Number(hp[2]), r, w, timeout, useLibuv), rank: r, worldSize: w };
  }
  if (scheme === 'env') {
    const err = (msg: string): TorchError => rendezvousError(`env:// rendezvous: ${msg}`);
    const env = (name: string): string => {
      const v = process.env[name];
      if (!v) throw err(`environment variable ${name} expected, but not set`);
      return v;
    };
    const r = q.has('rank') ? intFrom(q.get('rank')!, 'rank') : intFrom(env('RANK'), 'RANK');
    const w = q.has('world_size') ? intFrom(q.get('world_size')!, 'world_size') : intFrom(env('WORLD_SIZE'), 'WORLD_SIZE');
    const addr = env('MASTER_ADDR');
    const port = intFrom(env('MASTER_PORT'), 'MASTER_PORT');
    return { store: c10dStore(addr, port, r, w, timeout, useLibuv), rank: r, worldSize: w };
  }
  throw new TorchError(`No rendezvous handler for ${scheme}://`, 'TORCH_ERROR');
}

// Python's _create_c10d_store: rank 0 serves (multi-tenant), the others connect.
function c10dStore(host: string, port: number, rank: number, worldSize: number, timeout: number, useLibuv: boolean): Store {
  if (!(port >= 0 && port < 65536)) throw new TorchError(`port must have value from 0 to 65535 but was ${port}.`, 'VALUE_ERROR');
  return new TCPStore(host, port, { worldSize, isMaster: rank === 0, timeout, multiTenant: true, useLibuv });
}

// ---- public API -----------------------------------------------------------------------------------------------

/** Options of {@link initProcessGroup} (Python's keyword arguments; the timeout in milliseconds). */
export interface InitProcessGroupOptions {
  /** 'gloo' (default) or 'nccl'. */
  backend?: Backend;
  /** 'env://' (default: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE), 'tcp://host:port' or 'file:///path'. */
  initMethod?: string;
  /** This process's rank (from the environment or the URL when not given). */
  rank?: number;
  /** The number of ranks (from the environment or the URL when not given). */
  worldSize?: number;
  /** How long rendezvous and each collective may wait, in milliseconds (default 30 minutes, as Python's). */
  timeout?: number;
  /** A store to meet on instead of an initMethod (rank and worldSize are then required). */
  store?: Store;
}

const INIT_NAMES = ['backend', 'initMethod', 'timeout', 'worldSize', 'rank', 'store'];

/**
 * Joins this process to the job's default process group (Python's `init_process_group`): rendezvous on the store,
 * then the backend connects every pair of ranks. Blocks until every rank has arrived, or the timeout. A Python
 * process calling `torch.distributed.init_process_group` on the same address can be one of the ranks.
 *
 * @example
 * dist.initProcessGroup({ backend: 'gloo', initMethod: 'tcp://127.0.0.1:29500', rank, worldSize: 2 });
 * dist.initProcessGroup('gloo');  // env:// as torchrun and `torchkd run` set it up
 */
export function initProcessGroup(backend?: Backend | InitProcessGroupOptions, options?: InitProcessGroupOptions): void {
  const a =
    backend !== null && typeof backend === 'object'
      ? (() => {
          if (options !== undefined) throw new TypeError('initProcessGroup: takes one options object');
          return positional([backend]);
        })()
      : positional(backend === undefined ? (options === undefined ? [] : [undefined, options]) : options === undefined ? [backend] : [backend, options]);
  if (world.defaultGroup !== null) throw new TorchError('trying to initialize the default process group twice!', 'VALUE_ERROR');
  const b = checkBackend('initProcessGroup', a.backend ?? 'gloo');
  const timeout = checkTimeout('initProcessGroup', a.timeout ?? DEFAULT_TIMEOUT_MS);
  let rank = a.rank ?? -1;
  let worldSize = a.worldSize ?? -1;
  for (const [name, v] of [['rank', rank], ['worldSize', worldSize]] as const) {
    if (!Number.isInteger(v)) throw new TypeError(`initProcessGroup: expected an integer for ${name} but received ${describe(v)}`);
  }
  let store: Store;
  if (a.store !== undefined) {
    if (a.initMethod !== undefined) throw new TorchError('Cannot specify both init_method and store.', 'VALUE_ERROR');
    if (!(a.store instanceof Store)) throw new TypeError(`initProcessGroup: expected a Store for store but received ${describe(a.store)}`);
    if (!(worldSize > 0)) throw new RangeError('initProcessGroup: worldSize must be positive if using store');
    if (!(rank >= 0)) throw new RangeError('initProcessGroup: rank must be non-negative if using store');
    store = a.store;
  } else {
    const url = a.initMethod ?? 'env://';
    if (typeof url !== 'string') throw new TypeError(`initProcessGroup: expected a string for initMethod but received ${describe(url)}`);
    const r = rendezvous(url, rank, worldSize, timeout);
    store = r.store;
    rank = r.rank;
    worldSize = r.worldSize;
    store.setTimeout(timeout);
  }
  if (!(worldSize > 0)) throw new RangeError(`initProcessGroup: worldSize must be positive but is ${worldSize}`);
  if (!(rank >= 0 && rank < worldSize)) throw new RangeError(`initProcessGroup: rank ${rank} is out of range for worldSize ${worldSize}`);
  // Keys of other systems sharing the store stay apart (Python: "avoid accidental overrides").
  const prefixed = new PrefixStore('default_pg', store);
  const name = String(world.groupCount++);
  try {
    world.defaultGroup = newProcessGroup(worldSize, rank, [], b, prefixed, name, timeout, 'default_pg');
  } catch (e) {
    world.groupCount = 0;
    throw e;
  }
}

function positional(args: unknown[]): InitProcessGroupOptions {
  const out: Record<string, unknown> = {};
  let opts: Record<string, unknown> | undefined;
  if (args.length && args[args.length - 1] !== null && typeof args[args.length - 1] === 'object') opts = args.pop() as Record<string, unknown>;
  if (args.length > 1) throw new TypeError('initProcessGroup: takes a backend and an options object');
  if (args[0] !== undefined) out.backend = args[0];
  for (const [k, v] of Object.entries(opts ?? {})) {
    if (!INIT_NAMES.includes(k)) throw new TypeError(`initProcessGroup: got an unexpected option '${k}' (it takes ${INIT_NAMES.map((x) => `'${x}'`).join(', ')})`);
    if (k in out) throw new TypeError(`initProcessGroup: got multiple values for argument '${k}'`);
    if (v !== undefined) out[k] = v;
  }
  return out as InitProcessGroupOptions;
}

/** Options of {@link newGroup}. */
export interface NewGroupOptions {
  /** The collectives' timeout, in milliseconds (default: 30 minutes). */
  timeout?: number;
  /** Default: the default group's backend. */
  backend?: Backend;
  /** A description, shown in libtorch's diagnostics. */
  groupDesc?: string;
}

/**
 * A new group of the given global ranks (default: all), Python's `new_group`. Every rank of the job must call it,
 * members or not, in the same order as the other `newGroup` calls; non-members get
 * {@link GroupMember}.NON_GROUP_MEMBER.
 *
 * @example
 * const evens = dist.newGroup([0, 2]);
 */
export function newGroup(ranks?: number[] | null, options: NewGroupOptions = {}): ProcessGroup | NonGroupMember {
  const def = defaultGroup();
  if (options === null || typeof options !== 'object') throw new TypeError(`newGroup: expected an options object but received ${describe(options)}`);
  for (const k of Object.keys(options)) if (!['timeout', 'backend', 'groupDesc'].includes(k)) throw new TypeError(`newGroup: got an unexpected option '${k}' (it takes 'timeout', 'backend', 'groupDesc')`);
  const backend = checkBackend('newGroup', options.backend ?? def.backend);
  const timeout = checkTimeout('newGroup', options.timeout ?? DEFAULT_TIMEOUT_MS);
  const worldSize = def.size();
  const globalRank = def.rank();
  let members: number[];
  if (ranks === undefined || ranks === null) {
    members = Array.from({ length: worldSize }, (_, i) => i);
  } else {
    if (!Array.isArray(ranks)) throw new TypeError(`newGroup: expected an array of ranks but received ${describe(ranks)}`);
    for (const r of ranks) if (!Number.isInteger(r)) throw new TypeError(`newGroup: expected integer ranks but received ${describe(r)}`);
    members = [...ranks].sort((x, y) => x - y);
    if (new Set(members).size !== members.length) throw new TorchError(`ranks list must not contain duplicate entries, got ${JSON.stringify(ranks)}`, 'VALUE_ERROR');
    if (members.length > worldSize) {
      throw new TorchError("the new group's world size should be less or equal to the world size set by init_process_group", 'VALUE_ERROR');
    }
    for (const r of members) {
      if (r < 0 || r >= worldSize) throw new TorchError(`Rank ${r} is out of range. Valid ranks are 0 to ${worldSize - 1} (world_size=${worldSize})`, 'VALUE_ERROR');
    }
  }
  const name = String(world.groupCount++);
  const groupRank = members.indexOf(globalRank);
  if (groupRank < 0) return NON_GROUP_MEMBER;
  return newProcessGroup(members.length, groupRank, members, backend, def._store, name, timeout, options.groupDesc ?? 'undefined');
}

/**
 * Leaves a group (Python's `destroy_process_group`): without an argument every group, after which
 * {@link initProcessGroup} may be called again.
 *
 * @example
 * dist.destroyProcessGroup();
 */
export function destroyProcessGroup(group?: ProcessGroup | NonGroupMember | null): void {
  if (group === NON_GROUP_MEMBER) return;
  if (group === undefined || group === null || group === world.defaultGroup) {
    defaultGroup();
    // In reverse order of names, as Python shuts them down.
    const all = [...world.groups.values()].sort((x, y) => Number(y.groupName) - Number(x.groupName));
    for (const g of all) destroyOne(g);
    world.defaultGroup = null;
    world.groups.clear();
    world.groupCount = 0;
    return;
  }
  if (!(group instanceof ProcessGroup)) throw new TypeError(`destroyProcessGroup: expected a ProcessGroup but received ${describe(group)}`);
  if (group._destroyed || world.groups.get(group.groupName) !== group) throw new TorchError('Invalid process group specified', 'VALUE_ERROR');
  destroyOne(group);
  world.groups.delete(group.groupName);
}

function destroyOne(g: ProcessGroup): void {
  g._destroyed = true;
  dist().distDestroyGroup(g._h);
}

/** Whether torch.distributed can be used (libtorch was built with c10d). */
export function isAvailable(): boolean {
  return dist().distCapabilities() !== undefined;
}

/** Whether the Gloo backend is available. */
export function isGlooAvailable(): boolean {
  return dist().distCapabilities()?.gloo === true;
}

/** Whether the NCCL backend is available (torchkd's CUDA build over a CUDA libtorch). */
export function isNcclAvailable(): boolean {
  return dist().distCapabilities()?.nccl === true;
}

/** Whether {@link initProcessGroup} has run (and the default group was not destroyed). */
export function isInitialized(): boolean {
  return world.defaultGroup !== null;
}

/**
 * This process's rank in `group` (default: the default group, i.e. the global rank); -1 when not a member.
 *
 * @example
 * if (dist.getRank() === 0) torch.save(model.stateDict(), 'model.pt');
 */
export function getRank(group?: GroupArg): number {
  const g = resolveGroup(group, 'getRank');
  return g === null ? -1 : g.rank();
}

/** The number of ranks in `group` (default: the default group); -1 when not a member. */
export function getWorldSize(group?: GroupArg): number {
  const g = resolveGroup(group, 'getWorldSize');
  return g === null ? -1 : g.size();
}

/** The backend of `group` (default: the default group). */
export function getBackend(group?: GroupArg): Backend {
  const g = resolveGroup(group, 'getBackend');
  if (g === null) throw new TorchError('Invalid process group specified', 'VALUE_ERROR');
  return g.backend;
}

/** The global ranks of `group`'s members, in group-rank order (Python's `get_process_group_ranks`). */
export function getProcessGroupRanks(group?: GroupArg): number[] {
  const g = resolveGroup(group, 'getProcessGroupRanks');
  if (g === null) throw new TorchError('Invalid process group specified', 'VALUE_ERROR');
  return [...g._ranks];
}

/** The rank in `group` of the process with global rank `globalRank` (Python's `get_group_rank`). */
export function getGroupRank(group: GroupArg, globalRank: number): number {
  const g = resolveGroup(group, 'getGroupRank');
  if (g === null) throw new TorchError('Group NON_GROUP_MEMBER is not registered, please create group with torch.distributed.new_group API', 'VALUE_ERROR');
  if (!Number.isInteger(globalRank)) throw new TypeError(`getGroupRank: expected an integer for globalRank but received ${describe(globalRank)}`);
  const r = g._ranks.indexOf(globalRank);
  if (r < 0) throw new TorchError(`Global rank ${globalRank} is not part of group ${g.groupName}`, 'VALUE_ERROR');
  return r;
}

/** The global rank of the process with rank `groupRank` in `group` (Python's `get_global_rank`). */
export function getGlobalRank(group: GroupArg, groupRank: number): number {
  const g = resolveGroup(group, 'getGlobalRank');
  if (g === null) throw new TorchError('Group NON_GROUP_MEMBER is not registered, please create group with torch.distributed.new_group API', 'VALUE_ERROR');
  if (!Number.isInteger(groupRank)) throw new TypeError(`getGlobalRank: expected an integer for groupRank but received ${describe(groupRank)}`);
  if (groupRank < 0 || groupRank >= g._ranks.length) throw new TorchError(`Group rank ${groupRank} is not part of group ${g.groupName}`, 'VALUE_ERROR');
  return g._ranks[groupRank];
}

/**
 * This process's rank on its node: LOCAL_RANK, as torchrun and `torchkd run` set it (Python's
 * `get_node_local_rank`); `fallbackRank` where it is unset, else an error.
 *
 * @example
 * const device = `cuda:${dist.getNodeLocalRank({ fallbackRank: 0 })}`;
 */
export function getNodeLocalRank(options: { fallbackRank?: number } = {}): number {
  const v = process.env.LOCAL_RANK;
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new TorchError(`LOCAL_RANK is not an integer: ${describe(v)}`, 'VALUE_ERROR');
    return n;
  }
  if (options.fallbackRank !== undefined) return options.fallbackRank;
  throw new TorchError('LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow `get_node_local_rank` to work, assuming you are not running in a multi-device context and want the code to run locally instead.', 'TORCH_ERROR');
}
