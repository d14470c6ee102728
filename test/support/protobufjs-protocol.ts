// protobufjs on proto/protocol.proto: the reference that the server's hand-written protocol codecs
// (src/server/protocol-messages.ts, pub-decoder.ts, decodeAck) are cross-checked against. Tests only:
// the server itself loads no protobuf library.
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { MessageName } from '../../src/server/protocol.js';
import { repoRoot } from './tstan-process.js';

/** What StanCodec decoded through protobufjs before it had its own codec. */
const toObjectOptions: protobuf.IConversionOptions = { longs: Number, defaults: true, bytes: Uint8Array as never };

export class ProtobufjsProtocol {
  readonly root = protobuf.loadSync(join(repoRoot, 'proto', 'protocol.proto'));

  type(name: MessageName): protobuf.Type {
    return this.root.lookupType(`pb.${name}`);
  }

  /** Encodes through fromObject, so 64-bit fields may be given as Long or decimal strings. */
  encode(name: MessageName, fields: Record<string, unknown>): Buffer {
    const type = this.type(name);
    return Buffer.from(type.encode(type.fromObject(fields)).finish());
  }

  /** Decodes and converts as StanCodec did with protobufjs; throws what protobufjs throws. */
  decode(name: MessageName, bytes: Uint8Array): Record<string, unknown> {
    const type = this.type(name);
    return type.toObject(type.decode(bytes), toObjectOptions);
  }

  /** The (field number, wire type) pairs at the top level of `bytes`, read with protobufjs's own reader. */
  fieldsOf(bytes: Uint8Array): { field: number; wireType: number }[] {
    const reader = protobuf.Reader.create(bytes);
    const fields: { field: number; wireType: number }[] = [];
    while (reader.pos < reader.len) {
      const tag = reader.tag();
      fields.push({ field: tag >>> 3, wireType: tag & 7 });
      reader.skipType(tag & 7, 0, tag >>> 3);
    }
    return fields;
  }
}
