/**
 * The IDX file format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/ describes it): a 4-byte magic
 * `0x00 0x00 <dtype code> <ndim>`, then `ndim` big-endian uint32 sizes, then the values, big-endian, row-major.
 * Files may be gzip-compressed (recognised by gzip's own magic bytes, not by the name) or plain.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

import { tensor } from '../creation';
import { TorchError } from '../errors';
import type { DType } from '../dtype';
import type { Tensor } from '../tensor';

/** IDX dtype codes, their element size and the torchkd dtype they load as. */
const IDX_TYPES: Record<number, { name: DType; bytes: number }> = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
};

/** The header of an IDX file: element type and sizes. */
export interface IdxHeader {
  /** The element type the values load as. */
  dtype: DType;
  /** The sizes of each dimension. */
  shape: number[];
  /** Bytes before the first value (4 + 4·ndim). */
  dataOffset: number;
}

function fail(file: string, what: string): never {
  throw new TorchError(`IDX file '${file}': ${what}`, 'VALUE_ERROR');
}

/**
 * Parses and checks an IDX header; `file` names the source in error messages.
 *
 * @example
 * const { dtype, shape } = parseIdxHeader(bytes, 'train-labels-idx1-ubyte');
 * // dtype 'uint8', shape [60000]
 */
export function parseIdxHeader(bytes: Uint8Array, file = '<buffer>'): IdxHeader {
  if (bytes.length < 4) fail(file, `truncated: ${bytes.length} bytes, too short for the 4-byte magic number`);
  const type = IDX_TYPES[bytes[2]];
  if (bytes[0] !== 0 || bytes[1] !== 0 || type === undefined) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    fail(file, `bad magic number ${hex} (expected 00 00 <type 08|09|0b|0c|0d|0e> <ndim>); is this an IDX file?`);
  }
  const ndim = bytes[3];
  const dataOffset = 4 + 4 * ndim;
  if (bytes.length < dataOffset) fail(file, `truncated: ${bytes.length} bytes, too short for a ${ndim}-d header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  return { dtype: type.name, shape, dataOffset };
}

/** Big-endian values to a native typed array (the platform is little-endian wherever libtorch runs). */
function decodeValues(bytes: Uint8Array, dtype: DType, count: number): Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array {
  if (dtype === 'uint8') return bytes.slice(0, count);
  // A copy of exactly these bytes: `bytes` may be a view into a larger buffer (a Buffer from fs or zlib, whose
  // slice() is a view too), so its `.buffer` alone would take in the header and whatever else that buffer holds.
  if (dtype === 'int8') return new Int8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + count));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'int16') return Int16Array.from({ length: count }, (_, i) => view.getInt16(2 * i, false));
  if (dtype === 'int32') return Int32Array.from({ length: count }, (_, i) => view.getInt32(4 * i, false));
  if (dtype === 'float32') return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, false));
  return Float64Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, false));
}

/**
 * Decodes IDX bytes (gzip-compressed or plain) into a CPU tensor of the file's shape and type (uint8 for MNIST).
 * Throws a {@link TorchError} naming `file` for a bad magic number, a truncated file or trailing bytes.
 *
 * @example
 * const labels = decodeIdx(fs.readFileSync('t10k-labels-idx1-ubyte.gz'), 't10k-labels-idx1-ubyte.gz');
 * labels.shape;  // [10000]
 */
export function decodeIdx(raw: Uint8Array, file = '<buffer>'): Tensor {
  let bytes = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(raw);
    } catch (e) {
      fail(file, `cannot decompress (truncated or corrupt gzip data: ${(e as Error).message})`);
    }
  }
  const { dtype, shape, dataOffset } = parseIdxHeader(bytes, file);
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * IDX_TYPES[bytes[2]].bytes;
  const actual = bytes.length - dataOffset;
  if (actual < expected) fail(file, `truncated: the header promises ${expected} bytes of data for shape [${shape}] but the file holds ${actual}`);
  if (actual > expected) fail(file, `size mismatch: ${actual - expected} bytes after the ${expected} bytes of data that shape [${shape}] needs`);
  return tensor(decodeValues(bytes.subarray(dataOffset), dtype, count), { shape, dtype });
}

/**
 * Reads an IDX file (gzip-compressed or plain) into a CPU tensor; MNIST-style image files give uint8 (N, 28, 28),
 * label files uint8 (N). Errors name the file.
 *
 * @example
 * const images = readIdx('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz');
 * images.shape;  // [10000, 28, 28]
 */
export function readIdx(file: string): Tensor {
  if (typeof file !== 'string') throw new TypeError(`readIdx(): expected a file path but received ${typeof file}`);
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new TorchError(`IDX file '${file}': cannot read it (${why})`, 'VALUE_ERROR');
  }
  return decodeIdx(raw, file);
}
