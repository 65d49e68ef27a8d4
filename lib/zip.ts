/**
 * The zip container of torch.save files: stored (uncompressed) entries, zip64 when sizes or offsets need it.
 * Reading also accepts deflated entries. Only what PyTorch's file format uses is implemented.
 * @internal
 */
import * as zlib from 'node:zlib';

import { TorchError } from './errors';

/** One entry of an archive being read. */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function bad(what: string): never {
  throw new TorchError(`not a valid PyTorch zip archive (${what})`, 'VALUE_ERROR');
}

/** Lists the entries of a zip archive held in memory. */
export function readZipEntries(buf: Buffer): Map<string, ZipEntry> {
  if (buf.length < 22) bad('file too short');
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad('no end-of-central-directory record; the file may be truncated');
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) bad('zip64 locator missing');
    const rec = Number(buf.readBigUInt64LE(loc + 8));
    if (rec + 56 > buf.length || buf.readUInt32LE(rec) !== 0x06064b50) bad('zip64 record missing');
    count = Number(buf.readBigUInt64LE(rec + 32));
    cdOffset = Number(buf.readBigUInt64LE(rec + 48));
  }
  const out = new Map<string, ZipEntry>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) bad('central directory is damaged');
    const method = buf.readUInt16LE(p + 10);
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extended information: 8-byte values for the fields that hold 0xFFFFFFFF, in this order.
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) (size = Number(buf.readBigUInt64LE(q))), (q += 8);
        if (compressedSize === 0xffffffff) (compressedSize = Number(buf.readBigUInt64LE(q))), (q += 8);
        if (localOffset === 0xffffffff) localOffset = Number(buf.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    out.set(name, { name, method, compressedSize, size, localOffset });
    p = end + commentLen;
  }
  return out;
}

/** The bytes of one entry (a view into `buf` for stored entries). */
export function readZipEntry(buf: Buffer, entry: ZipEntry): Buffer {
  const p = entry.localOffset;
  if (p + 30 > buf.length || buf.readUInt32LE(p) !== 0x04034b50) bad(`local header of ${entry.name} is damaged`);
  const start = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
  const end = start + entry.compressedSize;
  if (end > buf.length) bad(`${entry.name} is truncated`);
  const data = buf.subarray(start, end);
  if (entry.method === 0) return data;
  if (entry.method === 8) return zlib.inflateRawSync(data);
  return bad(`${entry.name} uses unsupported compression method ${entry.method}`);
}

/** Builds a zip archive of stored entries; data entries are aligned to 64 bytes as PyTorch aligns them. */
export function writeZip(entries: [string, Buffer][]): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const ALIGN = 64;
  for (const [name, data] of entries) {
    const nameBuf = Buffer.from(name, 'utf8');
    const big = data.length >= 0xffffffff || offset >= 0xffffffff;
    const zip64Local = big ? 20 : 0;
    // Pad the local header's extra field so the data starts on a 64-byte boundary (PyTorch's "FB" padding).
    const headerEnd = offset + 30 + nameBuf.length + zip64Local;
    let pad = (ALIGN - ((headerEnd + 4) % ALIGN)) % ALIGN;
    const extraLocal = Buffer.alloc(zip64Local + 4 + pad);
    let q = 0;
    if (big) {
      extraLocal.writeUInt16LE(0x0001, 0);
      extraLocal.writeUInt16LE(16, 2);
      extraLocal.writeBigUInt64LE(BigInt(data.length), 4);
      extraLocal.writeBigUInt64LE(BigInt(data.length), 12);
      q = 20;
    }
    extraLocal.writeUInt16LE(0x4246, q); // 'FB'
    extraLocal.writeUInt16LE(pad, q + 2);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(big ? 45 : 20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(0, 8);
    local.writeUInt32LE(0, 10);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(big ? 0xffffffff : data.length, 18);
    local.writeUInt32LE(big ? 0xffffffff : data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(extraLocal.length, 28);
    chunks.push(local, nameBuf, extraLocal, data);
    const cdExtra = Buffer.alloc(big ? 28 : 0);
    if (big) {
      cdExtra.writeUInt16LE(0x0001, 0);
      cdExtra.writeUInt16LE(24, 2);
      cdExtra.writeBigUInt64LE(BigInt(data.length), 4);
      cdExtra.writeBigUInt64LE(BigInt(data.length), 12);
      cdExtra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(big ? 45 : 20, 4);
    cd.writeUInt16LE(big ? 45 : 20, 6);
    cd.writeUInt32LE(crc >>> 0, 16);
    cd.writeUInt32LE(big ? 0xffffffff : data.length, 20);
    cd.writeUInt32LE(big ? 0xffffffff : data.length, 24);
    cd.writeUInt16LE(nameBuf.length, 28);
    cd.writeUInt16LE(cdExtra.length, 30);
    cd.writeUInt32LE(big ? 0xffffffff : offset, 42);
    central.push(cd, nameBuf, cdExtra);
    offset += 30 + nameBuf.length + extraLocal.length + data.length;
    pad = 0;
  }
  const cdOffset = offset;
  const cdBuf = Buffer.concat(central);
  const needZip64 = entries.length >= 0xffff || cdOffset >= 0xffffffff || cdBuf.length >= 0xffffffff;
  const tail: Buffer[] = [];
  if (needZip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(entries.length), 24);
    rec.writeBigUInt64LE(BigInt(entries.length), 32);
    rec.writeBigUInt64LE(BigInt(cdBuf.length), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(cdOffset + cdBuf.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(rec, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(needZip64 ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(needZip64 ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(needZip64 ? 0xffffffff : cdBuf.length, 12);
  eocd.writeUInt32LE(needZip64 ? 0xffffffff : cdOffset, 16);
  return Buffer.concat([...chunks, cdBuf, ...tail, eocd]);
}
