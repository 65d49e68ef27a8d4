/**
 * PyTorch's torch.save format: a zip archive holding `data.pkl` (a protocol-2 pickle whose tensors point, through
 * persistent ids, at raw storage records `data/<key>`), `byteorder` and `version`.
 *
 * torchkd reads and writes it itself rather than through libtorch's TorchScript pickler, which turns
 * `collections.OrderedDict` (every Python state_dict) into None and tags typed dicts with TorchScript-only globals
 * that Python's `torch.load(weights_only=True)` rejects. The reader accepts exactly the globals that
 * weights-only loading accepts for tensors and containers, so loading a file never runs code.
 * @internal
 */
import { DType, dtypeCode } from './dtype';
import { TorchError } from './errors';
import { N, Tensor, wrap } from './tensor';
import { readZipEntries, readZipEntry, writeZip } from './zip';

// ---- storage types ---------------------------------------------------------------------------------------------

const STORAGE_DTYPE: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};
const DTYPE_STORAGE: Record<string, string> = Object.fromEntries(Object.entries(STORAGE_DTYPE).map(([k, v]) => [v, k]));
const ELEMENT_SIZE: Record<DType, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

class Global {
  constructor(readonly module: string, readonly name: string) {}
}
class StorageType {
  constructor(readonly dtype: DType) {}
}
class Storage {
  /** `location` is where the tensor lived when saved: 'cpu', 'cuda:0', ... */
  constructor(readonly dtype: DType, readonly key: string, readonly location: string, readonly numel: number) {}
}
class Mark {}
const MARK = new Mark();

function corrupt(why: string): never {
  throw new TorchError(`the pickle inside the file is damaged or unsupported (${why})`, 'VALUE_ERROR');
}

function pyKey(k: unknown): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  return corrupt('dictionary keys must be strings or numbers');
}

// ---- reading ---------------------------------------------------------------------------------------------------

/**
 * Where a loaded tensor goes, given the location it was saved from ('cpu', 'cuda:1', ...): a device code (−1 for
 * the CPU, N for cuda:N). It throws when the location cannot be restored.
 */
export type Locate = (location: string) => number;

/**
 * Reads a torch.save archive into JS values (tensors as torchkd Tensors, dicts as plain objects). Each tensor is
 * placed where `locate` says as soon as it is read, so the file is never held on the CPU and the device at once.
 */
export function unpickleArchive(buf: Buffer, locate: Locate = () => -1): unknown {
  const entries = readZipEntries(buf);
  const pkl = [...entries.keys()].find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
  if (!pkl) throw new TorchError('not a torch.save archive (no data.pkl inside)', 'VALUE_ERROR');
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  if (order && readZipEntry(buf, order).toString() !== 'little') {
    throw new TorchError('the file was saved on a big-endian machine; torchkd reads little-endian files only', 'NOT_IMPLEMENTED');
  }
  const loadStorage = (s: Storage): Buffer => {
    const e = entries.get(`${prefix}data/${s.key}`);
    if (!e) corrupt(`storage record data/${s.key} is missing`);
    return readZipEntry(buf, e);
  };
  // Tensors already built are freed at once if a later one fails (a bad record, a location that cannot be restored),
  // not left to the garbage collector while they hold device memory.
  const st: LoadState = { locate, built: [], storages: new Map() };
  try {
    return unpickle(readZipEntry(buf, entries.get(pkl)!), loadStorage, st);
  } catch (e) {
    for (const t of st.built) t.dispose();
    throw e;
  } finally {
    for (const t of st.storages.values()) t.dispose(); // the views keep what they use
  }
}

/** @internal What one load shares across its tensors. */
export interface LoadState {
  locate: Locate;
  /** Every tensor returned so far. */
  built: Tensor[];
  /** Each storage record once, as a 1-d tensor on its device: tensors saved on one storage (tied weights, slices)
   * are set onto that one storage after loading too, as in PyTorch (independent tensors, not autograd views). */
  storages: Map<string, Tensor>;
}

function rebuildTensor(load: (s: Storage) => Buffer, st: LoadState, args: unknown[], requiresGradAt: number): Tensor {
  const [storage, offset, size, stride] = args as [Storage, number, number[], number[]];
  if (!(storage instanceof Storage)) corrupt('tensor without a storage');
  let base = st.storages.get(storage.key);
  if (base === undefined) {
    const device = st.locate(storage.location);
    const bytes = load(storage);
    const need = storage.numel * ELEMENT_SIZE[storage.dtype];
    if (bytes.length < need) corrupt(`storage data/${storage.key} is truncated`);
    base = wrap(N.fromBytes(Buffer.from(bytes.buffer, bytes.byteOffset, need), dtypeCode(storage.dtype), storage.numel, 0, [storage.numel], [1]));
    if (device >= 0) {
      const cpu = base;
      try {
        base = wrap(N.to(cpu.h, -1, device, false, false));
      } finally {
        cpu.dispose();
      }
    }
    st.storages.set(storage.key, base);
  } else if (base.dtype !== storage.dtype) {
    corrupt(`storage data/${storage.key} is used as both ${base.dtype} and ${storage.dtype}`);
  }
  const t = wrap(N.asStrided(base.h, Number(offset), size.map(Number), stride.map(Number)));
  st.built.push(t);
  if (args[requiresGradAt] === true) t.requiresGrad = true;
  return t;
}

/** A protocol-≤5 unpickler for the objects torch.save writes. */
export function unpickle(data: Buffer, loadStorage: (s: Storage) => Buffer, st: LoadState = { locate: () => -1, built: [], storages: new Map() }): unknown {
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  const marks: number[] = [];
  let p = 0;
  const u8 = (): number => data[p++];
  const take = (n: number): Buffer => {
    if (p + n > data.length) corrupt('unexpected end of data');
    const b = data.subarray(p, p + n);
    p += n;
    return b;
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) corrupt('MARK expected');
    const items = stack.splice(m);
    return items;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, p);
    if (end < 0) corrupt('unterminated line');
    const s = data.toString('utf8', p, end);
    p = end + 1;
    return s;
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) corrupt('SETITEM on a non-dict');
    for (let i = 0; i + 1 < items.length; i += 2) (dict as Record<string, unknown>)[pyKey(items[i])] = items[i + 1];
  };
  const resolve = (module: string, name: string): unknown => {
    if (module === 'torch' && STORAGE_DTYPE[name]) return new StorageType(STORAGE_DTYPE[name]);
    const allowed = new Set([
      'collections.OrderedDict',
      'torch._utils._rebuild_tensor_v2',
      'torch._utils._rebuild_parameter',
      'torch.device',
      'torch.Size',
      'builtins.set',
      'builtins.frozenset',
    ]);
    if (!allowed.has(`${module}.${name}`)) {
      throw new TorchError(
        `the file contains a ${module}.${name} object; torchkd loads tensors, numbers, strings, lists, tuples and dicts (as weights-only torch.load does)`,
        'VALUE_ERROR',
      );
    }
    return new Global(module, name);
  };
  const call = (fn: unknown, args: unknown[]): unknown => {
    if (!(fn instanceof Global)) corrupt('REDUCE on a non-callable');
    switch (`${fn.module}.${fn.name}`) {
      case 'collections.OrderedDict': {
        // A plain object keeps insertion order; BUILD state such as _metadata is dropped below.
        const d: Record<string, unknown> = {};
        if (Array.isArray(args[0])) for (const [k, v] of args[0] as [unknown, unknown][]) d[pyKey(k)] = v;
        return d;
      }
      case 'torch._utils._rebuild_tensor_v2':
        return rebuildTensor(loadStorage, st, args, 4);
      case 'torch._utils._rebuild_parameter': {
        const t = args[0] as Tensor;
        if (args[1] === true) t.requiresGrad = true;
        return t;
      }
      case 'torch.device':
        return args.map(String).join(':');
      case 'torch.Size':
        return [...((args[0] as unknown[]) ?? [])];
      case 'builtins.set':
      case 'builtins.frozenset':
        return [...((args[0] as unknown[]) ?? [])];
      default:
        return corrupt(`cannot call ${fn.module}.${fn.name}`);
    }
  };
  for (;;) {
    if (p >= data.length) corrupt('missing STOP');
    const op = u8();
    switch (op) {
      case 0x80: p++; break; // PROTO
      case 0x95: p += 8; break; // FRAME
      case 0x2e: return stack.pop(); // STOP
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x7d: stack.push({}); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x8f: stack.push([]); break; // EMPTY_SET
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([stack.pop()]); break; // TUPLE1
      case 0x86: { const b = stack.pop(); const a = stack.pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = stack.pop(); const b = stack.pop(); const a = stack.pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { const items = popMark(); const d = {}; setItems(d, items); stack.push(d); break; } // DICT
      case 0x73: { const v = stack.pop(); const k = stack.pop(); setItems(stack[stack.length - 1], [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(stack[stack.length - 1], items); break; } // SETITEMS
      case 0x61: { const v = stack.pop(); (stack[stack.length - 1] as unknown[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); (stack[stack.length - 1] as unknown[]).push(...items); break; } // APPENDS
      case 0x90: { const items = popMark(); (stack[stack.length - 1] as unknown[]).push(...items); break; } // ADDITEMS
      case 0x91: stack.push(popMark()); break; // FROZENSET
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(take(2).readUInt16LE(0)); break; // BININT2
      case 0x4a: stack.push(take(4).readInt32LE(0)); break; // BININT
      case 0x8a: { // LONG1
        const n = u8();
        const b = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: stack.push(take(8).readDoubleBE(0)); break; // BINFLOAT
      case 0x8c: { const n = u8(); stack.push(take(n).toString('utf8')); break; } // SHORT_BINUNICODE
      case 0x58: { const n = take(4).readUInt32LE(0); stack.push(take(n).toString('utf8')); break; } // BINUNICODE
      case 0x8d: { const n = Number(take(8).readBigUInt64LE(0)); stack.push(take(n).toString('utf8')); break; } // BINUNICODE8
      case 0x55: { const n = u8(); stack.push(take(n).toString('latin1')); break; } // SHORT_BINSTRING
      case 0x54: { const n = take(4).readUInt32LE(0); stack.push(take(n).toString('latin1')); break; } // BINSTRING
      case 0x43: { const n = u8(); stack.push(Buffer.from(take(n))); break; } // SHORT_BINBYTES
      case 0x42: { const n = take(4).readUInt32LE(0); stack.push(Buffer.from(take(n))); break; } // BINBYTES
      case 0x63: { const module = line(); const name = line(); stack.push(resolve(module, name)); break; } // GLOBAL
      case 0x93: { const name = stack.pop() as string; const module = stack.pop() as string; stack.push(resolve(module, name)); break; } // STACK_GLOBAL
      case 0x52: { const args = stack.pop() as unknown[]; const fn = stack.pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x81: { const args = stack.pop() as unknown[]; const cls = stack.pop(); stack.push(call(cls, args)); break; } // NEWOBJ
      case 0x62: { // BUILD: state for OrderedDict (_metadata) and tensors (hooks) is not needed
        stack.pop();
        break;
      }
      case 0x51: { // BINPERSID
        const pid = stack.pop() as unknown[];
        if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof StorageType)) corrupt('unsupported persistent id');
        stack.push(new Storage((pid[1] as StorageType).dtype, String(pid[2]), String(pid[3]), Number(pid[4])));
        break;
      }
      case 0x71: memo.set(u8(), stack[stack.length - 1]); break; // BINPUT
      case 0x72: memo.set(take(4).readUInt32LE(0), stack[stack.length - 1]); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1]); break; // MEMOIZE
      case 0x68: stack.push(memo.get(u8())); break; // BINGET
      case 0x6a: stack.push(memo.get(take(4).readUInt32LE(0))); break; // LONG_BINGET
      case 0x30: stack.pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(stack[stack.length - 1]); break; // DUP
      default:
        corrupt(`unsupported pickle opcode 0x${op.toString(16)} at byte ${p - 1}`);
    }
  }
}

// ---- writing ---------------------------------------------------------------------------------------------------

/** Writes JS values as a torch.save archive that Python's torch.load (weights_only) reads. */
export function pickleArchive(value: unknown, name = 'archive'): Buffer {
  const out: Buffer[] = [];
  const records: [string, Buffer][] = [];
  let nextKey = 0;
  const byte = (b: number): void => void out.push(Buffer.from([b]));
  const bytes = (b: Buffer): void => void out.push(b);
  const str = (s: string): void => {
    const b = Buffer.from(s, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = 0x58; // BINUNICODE
    head.writeUInt32LE(b.length, 1);
    bytes(head);
    bytes(b);
  };
  const int = (v: number | bigint): void => {
    if (typeof v === 'number' && v >= 0 && v < 256) return void bytes(Buffer.from([0x4b, v]));
    if (typeof v === 'number' && v >= -2147483648 && v <= 2147483647) {
      const b = Buffer.alloc(5);
      b[0] = 0x4a;
      b.writeInt32LE(v, 1);
      return void bytes(b);
    }
    let x = BigInt(v);
    const le: number[] = [];
    for (;;) {
      le.push(Number(x & 0xffn));
      x >>= 8n;
      const sign = le[le.length - 1] & 0x80;
      if ((x === 0n && !sign) || (x === -1n && sign)) break;
    }
    bytes(Buffer.from([0x8a, le.length, ...le]));
  };
  const global = (module: string, nm: string): void => bytes(Buffer.from(`c${module}\n${nm}\n`, 'latin1'));
  const tensor = (t: Tensor): void => {
    const dtype = t.dtype;
    const storageType = DTYPE_STORAGE[dtype];
    const key = String(nextKey++);
    const shape = t.shape;
    records.push([`${name}/data/${key}`, N.rawBytes(t.h)]);
    const strides: number[] = [];
    let s = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      strides[i] = s;
      s *= shape[i];
    }
    const numel = shape.reduce((a, b) => a * b, 1);
    global('torch._utils', '_rebuild_tensor_v2');
    byte(0x28); // MARK (args)
    byte(0x28); // MARK (persistent id)
    str('storage');
    global('torch', storageType);
    str(key);
    str(t.device); // 'cpu' or 'cuda:N', as PyTorch's location tags: Python's torch.load restores the tensor there
    int(numel);
    byte(0x74); // TUPLE
    byte(0x51); // BINPERSID
    int(0);
    byte(0x28);
    shape.forEach(int);
    byte(0x74);
    byte(0x28);
    strides.forEach(int);
    byte(0x74);
    byte(t.requiresGrad ? 0x88 : 0x89);
    global('collections', 'OrderedDict');
    byte(0x29); // EMPTY_TUPLE
    byte(0x52); // REDUCE -> OrderedDict()
    byte(0x74); // TUPLE (args)
    byte(0x52); // REDUCE
  };
  const write = (v: unknown, depth: number): void => {
    if (depth > 64) throw new RangeError('torch.save: the object is nested too deeply');
    if (v instanceof Tensor) return tensor(v);
    if (v === null || v === undefined) return byte(0x4e);
    if (v === true) return byte(0x88);
    if (v === false) return byte(0x89);
    if (typeof v === 'bigint') return int(v);
    if (typeof v === 'number') {
      if (Number.isInteger(v) && Number.isSafeInteger(v) && !Object.is(v, -0)) return int(v);
      const b = Buffer.alloc(9);
      b[0] = 0x47;
      b.writeDoubleBE(v, 1);
      return bytes(b);
    }
    if (typeof v === 'string') return str(v);
    if (Array.isArray(v)) {
      byte(0x5d); // EMPTY_LIST
      if (v.length) {
        byte(0x28);
        for (const x of v) write(x, depth + 1);
        byte(0x65); // APPENDS
      }
      return;
    }
    if (typeof v === 'object') {
      const keys = Object.keys(v as object);
      // All-integer keys ("0", "1", ...) become int keys, as Python's optimizer state dicts have.
      const intKeys = keys.length > 0 && keys.every((k) => /^(0|[1-9][0-9]{0,14})$/.test(k));
      byte(0x7d); // EMPTY_DICT
      if (keys.length) {
        byte(0x28);
        for (const k of keys) {
          if (intKeys) int(Number(k));
          else str(k);
          write((v as Record<string, unknown>)[k], depth + 1);
        }
        byte(0x75); // SETITEMS
      }
      return;
    }
    throw new TypeError(`torch.save cannot save a ${typeof v}`);
  };
  bytes(Buffer.from([0x80, 0x02]));
  write(value, 0);
  byte(0x2e); // STOP
  return writeZip([
    [`${name}/data.pkl`, Buffer.concat(out)],
    [`${name}/.format_version`, Buffer.from('1')],
    [`${name}/byteorder`, Buffer.from('little')],
    ...records,
    [`${name}/version`, Buffer.from('3\n')],
  ]);
}
