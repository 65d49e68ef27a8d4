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
import { pickleArchive, unpickleArchive } from './pickle';
import { N, Tensor, wrap } from './tensor';

/** Values torch.save accepts. */
export type Saveable = Tensor | number | string | boolean | null | Saveable[] | { [key: string]: Saveable };

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

function moveTo(v: unknown, device: number): unknown {
  if (v instanceof Tensor) {
    const moved = wrap(N.to(v.h, -1, device, false, false));
    if (moved !== v) v.dispose();
    return moved;
  }
  if (Array.isArray(v)) return v.map((x) => moveTo(x, device));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = moveTo(x, device);
    return out;
  }
  return v;
}

/** Serialises `obj` to bytes in torch.save's format. */
export function saveToBuffer(obj: Saveable): Buffer {
  checkSaveable(obj, 0);
  return pickleArchive(obj);
}

/**
 * Saves `obj` to `file` atomically (temporary file + fsync + rename).
 *
 * @example
 * torch.save(model.stateDict(), 'model.pt');
 */
export function save(obj: Saveable, file: string): void {
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
    fs.writeFileSync(fd, bytes);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
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

/** Reads an object from torch.save bytes. */
export function loadFromBuffer(bytes: Buffer, options: { mapLocation?: Device } = {}): unknown {
  const device = options.mapLocation === undefined ? null : deviceCode(options.mapLocation);
  const value = unpickleArchive(bytes);
  return device === null ? value : moveTo(value, device);
}

/**
 * Loads an object saved by torch.save (torchkd's or Python's). `mapLocation` moves every tensor to a device.
 *
 * @example
 * model.loadStateDict(torch.load('model.pt') as Record<string, Tensor>);
 */
export function load(file: string, options: { mapLocation?: Device } = {}): unknown {
  if (typeof file !== 'string' || file === '') throw new TypeError(`torch.load expects a file path but received ${describe(file)}`);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new TorchError(`torch.load: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'VALUE_ERROR');
  }
  try {
    return loadFromBuffer(bytes, options);
  } catch (e) {
    if (e instanceof TorchError || e instanceof RangeError) {
      throw new TorchError(`torch.load: ${file} is not a readable PyTorch file (${(e as Error).message.split('\n')[0]})`, 'VALUE_ERROR');
    }
    throw e;
  }
}
