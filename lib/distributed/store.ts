/**
 * torch.distributed's key-value stores (c10d's TCPStore, FileStore, PrefixStore): the rendezvous that process groups
 * are built on, shared with Python ranks (the same server, protocol and key layout).
 */
import { describe } from '../dtype';
import { dist } from './native';

/** The default store timeout, as Python's (`Store.kDefaultTimeout`, 300 s). */
const DEFAULT_STORE_TIMEOUT_MS = 300_000;

function checkTimeout(fn: string, ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) throw new RangeError(`${fn}: timeout must be a positive number of milliseconds but received ${describe(ms)}`);
  return ms;
}

function checkKey(fn: string, key: unknown): string {
  if (typeof key !== 'string') throw new TypeError(`${fn}: expected a string for key but received ${describe(key)}`);
  return key;
}

/**
 * A key-value store shared by the ranks of a job (Python's `torch.distributed.Store`). Values are bytes; `set`
 * takes a string (UTF-8) or bytes, `get` returns a Buffer. `get` and `wait` block until the key is set or the store's
 * timeout passes.
 *
 * @example
 * const store = new dist.TCPStore('127.0.0.1', 29500, { worldSize: 2, isMaster: rank === 0 });
 * store.set('ready', '1');
 */
export class Store {
  /** @internal */
  readonly _h: number;

  /** @internal */
  constructor(handle: number) {
    this._h = handle;
  }

  /** Sets `key` to `value` (a string is stored as its UTF-8 bytes). */
  set(key: string, value: string | Uint8Array): void {
    checkKey('Store.set', key);
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new TypeError(`Store.set: expected a string or a Uint8Array for value but received ${describe(value)}`);
    dist().distStoreOp(this._h, 0, key, value);
  }

  /** The value of `key`, waiting for it to be set (up to the store's timeout). */
  get(key: string): Buffer {
    return dist().distStoreOp(this._h, 1, checkKey('Store.get', key)) as Buffer;
  }

  /** Adds `amount` to the integer stored at `key` (0 when unset) and returns the new value. */
  add(key: string, amount: number): number {
    if (!Number.isInteger(amount)) throw new TypeError(`Store.add: expected an integer for amount but received ${describe(amount)}`);
    return dist().distStoreOp(this._h, 2, checkKey('Store.add', key), amount) as number;
  }

  /** Waits until every key is set, up to `timeout` milliseconds (default: the store's timeout). */
  wait(keys: string[], timeout?: number): void {
    if (!Array.isArray(keys)) throw new TypeError(`Store.wait: expected an array of keys but received ${describe(keys)}`);
    keys.forEach((k) => checkKey('Store.wait', k));
    dist().distStoreOp(this._h, 3, keys, timeout === undefined ? undefined : checkTimeout('Store.wait', timeout));
  }

  /** Whether every key is set (does not wait). */
  check(keys: string[]): boolean {
    if (!Array.isArray(keys)) throw new TypeError(`Store.check: expected an array of keys but received ${describe(keys)}`);
    keys.forEach((k) => checkKey('Store.check', k));
    return dist().distStoreOp(this._h, 4, keys) as boolean;
  }

  /** Deletes `key`; whether it was there. */
  deleteKey(key: string): boolean {
    return dist().distStoreOp(this._h, 5, checkKey('Store.deleteKey', key)) as boolean;
  }

  /** The number of keys set. */
  numKeys(): number {
    return dist().distStoreOp(this._h, 6) as number;
  }

  /** Sets the timeout of `get` and `wait`, in milliseconds. */
  setTimeout(timeout: number): void {
    dist().distStoreOp(this._h, 7, checkTimeout('Store.setTimeout', timeout));
  }
}

/** Options of {@link TCPStore} (Python's keyword arguments, camelCased; the timeout in milliseconds). */
export interface TCPStoreOptions {
  /** The number of ranks that will connect (the server waits for them when `waitForWorkers`). */
  worldSize?: number;
  /** Run the server in this process (default false). */
  isMaster?: boolean;
  /** Timeout of the connection and of `get`/`wait`, in ms (default 300 000, as Python's). */
  timeout?: number;
  /** The server waits for `worldSize` clients before the constructor returns (default true). */
  waitForWorkers?: boolean;
  /** Several stores may share the host:port in one process (default false). */
  multiTenant?: boolean;
  /** Use the libuv server (default true, as Python's). */
  useLibuv?: boolean;
}

const TCP_OPTIONS = new Set(['worldSize', 'isMaster', 'timeout', 'waitForWorkers', 'multiTenant', 'useLibuv']);

/**
 * A store served over TCP by one rank (Python's `torch.distributed.TCPStore`; the same wire protocol, so Python
 * and Node processes can share one). Blocks until the server listens (master) or the client has connected.
 *
 * @example
 * const store = new dist.TCPStore('127.0.0.1', 0, { isMaster: true, worldSize: 1 });  // port 0: any free port
 * console.log(store.port);
 */
export class TCPStore extends Store {
  /** The host the store was created with. */
  readonly host: string;
  /** The port the server listens on (the one it picked when created with port 0). */
  readonly port: number;

  constructor(hostName: string, port: number, options: TCPStoreOptions = {}) {
    if (typeof hostName !== 'string' || hostName === '') throw new TypeError(`TCPStore: expected a host name but received ${describe(hostName)}`);
    if (!Number.isInteger(port) || port < 0 || port >= 65536) throw new RangeError(`TCPStore: port must have value from 0 to 65535 but was ${describe(port)}`);
    if (options === null || typeof options !== 'object') throw new TypeError(`TCPStore: expected an options object but received ${describe(options)}`);
    for (const k of Object.keys(options)) if (!TCP_OPTIONS.has(k)) throw new TypeError(`TCPStore: got an unexpected option '${k}'`);
    const { worldSize, isMaster = false, timeout = DEFAULT_STORE_TIMEOUT_MS, waitForWorkers = true, multiTenant = false, useLibuv = true } = options;
    if (worldSize !== undefined && (!Number.isInteger(worldSize) || worldSize <= 0)) throw new RangeError(`TCPStore: worldSize must be a positive integer but received ${describe(worldSize)}`);
    for (const [name, v] of [['isMaster', isMaster], ['waitForWorkers', waitForWorkers], ['multiTenant', multiTenant], ['useLibuv', useLibuv]] as const) {
      if (typeof v !== 'boolean') throw new TypeError(`TCPStore: expected a boolean for ${name} but received ${describe(v)}`);
    }
    const h = dist().distTcpStore(hostName, port, worldSize ?? -1, isMaster, checkTimeout('TCPStore', timeout), waitForWorkers, multiTenant, useLibuv);
    super(h);
    this.host = hostName;
    this.port = dist().distTcpStorePort(h);
  }
}

/**
 * A store in a file that every rank can reach (Python's `torch.distributed.FileStore`), for `file://` rendezvous.
 *
 * @example
 * const store = new dist.FileStore('/tmp/rendezvous', 2);
 */
export class FileStore extends Store {
  /** The file's path. */
  readonly path: string;
  constructor(fileName: string, worldSize = -1) {
    if (typeof fileName !== 'string' || fileName === '') throw new TypeError(`FileStore: expected a file name but received ${describe(fileName)}`);
    if (!Number.isInteger(worldSize)) throw new TypeError(`FileStore: expected an integer for worldSize but received ${describe(worldSize)}`);
    super(dist().distFileStore(fileName, worldSize));
    this.path = fileName;
  }
}

/**
 * Every key of another store under `prefix/` (Python's `torch.distributed.PrefixStore`): how process groups keep
 * their keys apart on one store.
 *
 * @example
 * const groupStore = new dist.PrefixStore('trainer', store);
 */
export class PrefixStore extends Store {
  /** The store the keys go to. */
  readonly underlyingStore: Store;
  constructor(prefix: string, store: Store) {
    if (typeof prefix !== 'string') throw new TypeError(`PrefixStore: expected a string for prefix but received ${describe(prefix)}`);
    if (!(store instanceof Store)) throw new TypeError(`PrefixStore: expected a Store but received ${describe(store)}`);
    super(dist().distPrefixStore(prefix, store._h));
    this.underlyingStore = store;
  }
}
