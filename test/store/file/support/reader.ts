// An independent minimal reader of the reference file-store format, written from docs/protocol.md §6
// without the store's code: CRC-32 bit by bit, records, index entries and protobuf fields. Tests
// parse what the store writes through it, so a mistake shared by writer and reader shows up.

/** Bit-at-a-time CRC-32 with a reflected polynomial (no table, nothing shared with src/). */
export function slowCrc32(data: Uint8Array, polynomial = 0xedb88320): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ polynomial : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export interface RawRecord {
  offset: number;
  type: number;
  payload: Buffer;
}

/** Reads every record; throws on any defect (version, CRC, truncation). */
export function readRecords(file: Buffer, typed: boolean, polynomial = 0xedb88320): RawRecord[] {
  if (file.readUInt32LE(0) !== 1) throw new Error('bad version');
  const records: RawRecord[] = [];
  let offset = 4;
  while (offset < file.length) {
    const header = file.readUInt32LE(offset);
    const type = typed ? header >>> 24 : 0;
    const size = typed ? header & 0xffffff : header;
    const payload = file.subarray(offset + 8, offset + 8 + size);
    if (payload.length !== size) throw new Error(`truncated record at ${offset}`);
    if (slowCrc32(payload, polynomial) !== file.readUInt32LE(offset + 4)) throw new Error(`bad crc at ${offset}`);
    records.push({ offset, type, payload });
    offset += 8 + size;
  }
  return records;
}

export interface RawIndexEntry {
  seq: bigint;
  offset: bigint;
  timestamp: bigint;
  size: number;
}

export function readIndex(file: Buffer, polynomial = 0xedb88320): RawIndexEntry[] {
  if (file.readUInt32LE(0) !== 1) throw new Error('bad version');
  if ((file.length - 4) % 32 !== 0) throw new Error('index length not a multiple of 32');
  const entries: RawIndexEntry[] = [];
  for (let offset = 4; offset < file.length; offset += 32) {
    if (slowCrc32(file.subarray(offset, offset + 28), polynomial) !== file.readUInt32LE(offset + 28)) {
      throw new Error(`bad index crc at ${offset}`);
    }
    entries.push({
      seq: file.readBigUInt64LE(offset),
      offset: file.readBigUInt64LE(offset + 8),
      timestamp: file.readBigInt64LE(offset + 16),
      size: file.readUInt32LE(offset + 24),
    });
  }
  return entries;
}

export type ProtoValue = bigint | Buffer;

/** Field number -> values in order (varints as bigint, length-delimited as bytes). */
export function readProto(payload: Buffer): Map<number, ProtoValue[]> {
  const fields = new Map<number, ProtoValue[]>();
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = payload[pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
    }
  };
  while (pos < payload.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    let value: ProtoValue;
    if ((tag & 7) === 0) value = varint();
    else if ((tag & 7) === 2) {
      const length = Number(varint());
      value = payload.subarray(pos, pos + length);
      pos += length;
    } else throw new Error(`unexpected wire type ${tag & 7}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

export function protoString(fields: Map<number, ProtoValue[]>, field: number): string {
  const value = fields.get(field)?.[0];
  return value instanceof Buffer ? value.toString('utf8') : '';
}

export function protoInt(fields: Map<number, ProtoValue[]>, field: number): bigint {
  const value = fields.get(field)?.[0];
  return typeof value === 'bigint' ? value : 0n;
}
