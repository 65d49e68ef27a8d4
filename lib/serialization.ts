/**
 * torch.save / torch.load in PyTorch's file format (zip + pickle; lib/pickle.ts): Python's `torch.load` (also
 * weights-only) reads torchkd's files, and torchkd reads Python's `torch.save(model.state_dict())` files.
 *
 * Supported values: tensors, numbers, strings, booleans, null, arrays and plain objects (nested). An object whose
 * keys are all non-negative integers ("0", "1", ...) is saved with integer keys, as Python's optimizer state dicts
 * have; integer keys load back as strings. Writes are atomic: the bytes go to a temporary file in the same folder,
 * are flushed to disk, and replace the target only by a rename, so an interrupted save never leaves a bad file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Device, describe, deviceCode } from './dtype';
import { TorchError } from './errors';
import { faultInjection, faultPoint } from './fault';
import { Locate, pickleArchive, unpickleArchive } from './pickle';
import { N, Tensor, cudaAvailable } from './tensor';

/** Values torch.save accepts: tensors, numbers, strings, booleans, null and arrays and plain objects of them. */
export type Saveable = Tensor | number | bigint | string | boolean | null | undefined | readonly Saveable[] | { readonly [key: string]: Saveable };

/**
 * The check `torch.save` applies to its argument's type: any tree of tensors, numbers, strings, booleans, null,
 * arrays and objects — interfaces included (a model's, an optimizer's and a scheduler's state dicts, a checkpoint
 * object of your own). Functions and class instances other than tensors (a Module itself, a Map) are rejected.
 */
export type SaveableTree<T> = T extends Tensor | number | bigint | string | boolean | null | undefined
  ? T
  : [T] extends [Saveable]
    ? T
    : T extends (...args: never[]) => unknown
    ? never
    : T extends Map<unknown, unknown> | Set<unknown>
      ? never
      : T extends readonly unknown[]
        ? { [I in keyof T]: SaveableTree<T[I]> }
        : T extends object
          ? { [K in keyof T]: SaveableTree<T[K]> }
          : never;

function checkSaveable(v: unknown, depth: number): void {
  if (depth > 64) throw new RangeError('torch.save: the object is nested too deeply');
  if (v instanceof Tensor || v === null || v === undefined) return;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return;
  if (Array.isArray(v)) return v.forEach((x) => checkSaveable(x, depth + 1));
  if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    for (const x of Object.values(v)) checkSaveable(x, depth + 1);
    return;
  }
  throw new TypeError(`torch.save cannot save ${describe(v)} (tensors, numbers, strings, booleans, null, arrays and plain objects are supported)`);
}

/**
 * Where `torch.load` puts each tensor, as PyTorch's `map_location`: a device for every tensor, or a table from saved
 * locations to devices (`{ 'cuda:1': 'cuda:0' }` or a Map; locations it does not name stay where they were saved).
 */
export type MapLocation = Device | Record<string, Device> | Map<string, Device>;

/** How {@link load} and {@link loadFromBuffer} read a file. */
export interface LoadOptions {
  /**
   * Where the tensors go. Without it each tensor returns to the device it was saved from, as in PyTorch: a file saved
   * from CUDA tensors needs a CUDA device, or `{ mapLocation: 'cpu' }`.
   */
  mapLocation?: MapLocation;
}

// Errors about where tensors go, which load() passes on as they are (the file itself is fine).
const placementErrors = new WeakSet<Error>();
function placementError(message: string, code: 'NOT_IMPLEMENTED' | 'CUDA_UNAVAILABLE'): TorchError {
  const e = new TorchError(message, code);
  placementErrors.add(e);
  return e;
}

// A saved location ('cpu', 'cuda', 'cuda:N', or another PyTorch backend's tag) as a device code, checked against
// this machine; `saved` is the location written in the file, for the message.
function restoreTo(location: string, saved: string): number {
  if (location === 'cpu') return -1;
  const m = /^cuda(?::(\d+))?$/.exec(location);
  const hint = saved === location ? '' : ` (mapped from '${saved}')`;
  if (!m) {
    throw placementError(
      `torch.load: the file holds tensors saved on '${location}'${hint}, a device torchkd does not have; ` +
        `pass { mapLocation: 'cpu' } to load them on the CPU`,
      'NOT_IMPLEMENTED',
    );
  }
  if (!cudaAvailable()) {
    throw placementError(
      `torch.load: the file holds tensors saved on '${location}'${hint}, but no CUDA device is available ` +
        `(torch.cuda.isAvailable() is false); pass { mapLocation: 'cpu' } to load them on the CPU`,
      'CUDA_UNAVAILABLE',
    );
  }
  if (m[1] === undefined) return deviceCode('cuda');
  const index = Number(m[1]);
  const count = N.cudaDeviceCount();
  if (index >= count) {
    throw placementError(
      `torch.load: the file holds tensors saved on '${location}'${hint}, but this machine has ${count} CUDA ` +
        `device${count === 1 ? '' : 's'}; map it with { mapLocation: { '${location}': 'cuda:0' } } or { mapLocation: 'cpu' }`,
      'CUDA_UNAVAILABLE',
    );
  }
  return index;
}

function locator(mapLocation: unknown): Locate {
  if (mapLocation === undefined || mapLocation === null) return (loc) => restoreTo(loc, loc);
  if (typeof mapLocation === 'string') {
    deviceCode(mapLocation); // the syntax, and CUDA's availability, before the file is read
    let code: number | undefined;
    return () => (code ??= restoreTo(mapLocation, mapLocation)); // the device index, as soon as a tensor needs it
  }
  const plain = typeof mapLocation === 'object' && (Object.getPrototypeOf(mapLocation) === Object.prototype || Object.getPrototypeOf(mapLocation) === null);
  if (plain || mapLocation instanceof Map) {
    const table = new Map<string, string>();
    const entries = mapLocation instanceof Map ? [...mapLocation.entries()] : Object.entries(mapLocation as object);
    for (const [from, to] of entries as [unknown, unknown][]) {
      if (typeof from !== 'string') throw new TypeError(`torch.load: mapLocation keys must be saved locations ('cpu', 'cuda:0', ...) but one is ${describe(from)}`);
      if (typeof to !== 'string') throw new TypeError(`torch.load: mapLocation['${from}'] must be a device string but is ${describe(to)}`);
      // The syntax is checked now; whether the device exists, only if a tensor is mapped to it.
      if (to !== 'cpu' && !/^cuda(?::\d+)?$/.test(to)) throw new RangeError(`torch.load: mapLocation['${from}'] is '${to}'; expected 'cpu', 'cuda' or 'cuda:N'`);
      table.set(from, to);
    }
    const seen = new Map<string, number>();
    return (loc) => {
      let code = seen.get(loc);
      if (code === undefined) {
        code = restoreTo(table.get(loc) ?? loc, loc);
        seen.set(loc, code);
      }
      return code;
    };
  }
  throw new TypeError(
    `torch.load: mapLocation must be a device ('cpu', 'cuda', 'cuda:N') or an object mapping saved locations to devices, but is ${describe(mapLocation)}`,
  );
}

/** Serialises `obj` to bytes in torch.save's format. */
export function saveToBuffer<T>(obj: T & SaveableTree<T>): Buffer {
  checkSaveable(obj, 0);
  return pickleArchive(obj as Saveable);
}

/**
 * Saves `obj` to `file` atomically (temporary file + fsync + rename).
 *
 * @example
 * torch.save(model.stateDict(), 'model.pt');
 */
export function save<T>(obj: T & SaveableTree<T>, file: string): void {
  if (typeof file !== 'string' || file === '') throw new TypeError(`torch.save expects a file path but received ${describe(file)}`);
  const bytes = saveToBuffer(obj);
  writeAtomic(file, bytes);
}

/** Writes bytes to a file atomically: temp file in the same folder, fsync, rename over the target. */
export function writeAtomic(file: string, bytes: Buffer | string): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx');
    if (faultInjection) {
      const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      const half = Math.floor(buf.length / 2);
      fs.writeSync(fd, buf, 0, half);
      faultPoint(`write-half:${path.basename(file)}`);
      fs.writeSync(fd, buf, half, buf.length - half);
    } else {
      fs.writeFileSync(fd, bytes);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    faultPoint(`write:${path.basename(file)}`);
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    // Name the file the caller asked for, not the temporary one.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw Object.assign(new Error(`cannot write ${file}: the folder ${dir} does not exist`), { code });
    if (code === 'EACCES' || code === 'EPERM') throw Object.assign(new Error(`cannot write ${file}: permission denied in ${dir}`), { code });
    if (code === 'ENOSPC') throw Object.assign(new Error(`cannot write ${file}: no space left on the device`), { code });
    if (code === 'EISDIR') throw Object.assign(new Error(`cannot write ${file}: it is a folder`), { code });
    throw e;
  }
  try {
    // Make the rename itself durable.
    const dfd = fs.openSync(dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    // Some filesystems do not allow fsync on directories; the data itself is already on disk.
  }
}

/** Reads an object from torch.save bytes (see {@link load}); `T` states what you expect it to hold. */
export function loadFromBuffer<T = unknown>(bytes: Buffer, options: LoadOptions = {}): T {
  return unpickleArchive(bytes, locator(options?.mapLocation)) as T;
}

/**
 * Loads an object saved by torch.save (torchkd's or Python's). Each tensor returns to the device it was saved from,
 * unless `mapLocation` says otherwise (as PyTorch's `map_location`).
 *
 * `T` states what you expect the file to hold (it is not checked): `torch.load<nn.StateDict>('model.pt')`.
 *
 * @example
 * model.loadStateDict(torch.load<nn.StateDict>('model.pt'));
 * const ckpt = torch.load<{ model: nn.StateDict; epoch: number }>('checkpoint.pt', { mapLocation: 'cpu' });
 */
export function load<T = unknown>(file: string, options: LoadOptions = {}): T {
  if (typeof file !== 'string' || file === '') throw new TypeError(`torch.load expects a file path but received ${describe(file)}`);
  const locate = locator(options?.mapLocation);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new TorchError(`torch.load: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'VALUE_ERROR');
  }
  try {
    return unpickleArchive(bytes, locate) as T;
  } catch (e) {
    // Where the tensors go (no such device, out of device memory) is not a fault of the file.
    const placement = placementErrors.has(e as Error) || (e instanceof TorchError && (e.code === 'OUT_OF_MEMORY' || e.code === 'CUDA_UNAVAILABLE'));
    if (!placement && (e instanceof TorchError || e instanceof RangeError)) {
      throw new TorchError(`torch.load: ${file} is not a readable PyTorch file (${(e as Error).message.split('\n')[0]})`, 'VALUE_ERROR');
    }
    throw e;
  }
}
