// The two files at the root of a data directory: server.dat (one untyped ServerInfo record,
// rewritten in place) and clients.dat (typed add/delete records, compacted like subs.dat).
import { posix } from 'node:path';
import { TstanError } from '../../util/errors.js';
import {
  decodeClientDelete,
  decodeClientInfo,
  decodeServerInfo,
  encodeClientDelete,
  encodeClientInfo,
  encodeServerInfo,
  RecordInvalidError,
  type ClientInfo,
  type ServerInfo,
} from '../records.js';
import { StoreErrorCode } from '../types.js';
import type { FileHandle } from './io.js';
import { ClientRecord, encodeRecord, FileName, versionHeader } from './format.js';
import { checkVersion, scanRecords, tornHeader } from './scan.js';
import { corrupt, settleEnd } from './recover.js';
import { checkClientInfo } from '../memory/memory-store.js';
import { TypedLog, type TypedLogContext } from './typed-log.js';

const CLIENT_TYPES: ReadonlySet<number> = new Set(Object.values(ClientRecord));

export class ServerFile {
  private constructor(
    private handle: FileHandle,
    private readonly context: TypedLogContext,
    readonly recovered: ServerInfo | undefined,
  ) {}

  static open(root: string, context: TypedLogContext): ServerFile {
    const path = posix.join(root, FileName.server);
    const handle = context.io.open(path, { create: true });
    const data = handle.read(0, handle.size());
    if (tornHeader(data)) return new ServerFile(handle, context, undefined);
    const bad = checkVersion(data);
    if (bad !== undefined) throw corrupt(path, 0, bad);
    let info: ServerInfo | undefined;
    const crc = context.options.crc ? context.crc : undefined;
    const result = scanRecords(data, { typed: false, crc }, (offset, _type, payload) => {
      if (info !== undefined) return 'more than one record in server.dat';
      try {
        info = decodeServerInfo(payload);
        return undefined;
      } catch (error) {
        if (error instanceof RecordInvalidError) return error.message;
        throw error;
      }
    });
    settleEnd(handle, result.goodEnd, result.end, {
      logger: context.logger,
      truncateBadEof: context.options.truncateBadEof,
    });
    return new ServerFile(handle, context, info);
  }

  /**
   * Replaces the record through a new file renamed over the old one, so a crash leaves either
   * the old record or the new one, never an empty server.dat (which would hide the whole store).
   */
  async write(info: ServerInfo): Promise<void> {
    let payload: Buffer;
    try {
      payload = encodeServerInfo(info);
    } catch (error) {
      throw new TstanError(StoreErrorCode.RecordInvalid, (error as Error).message, { cause: error });
    }
    const { io, crc } = this.context;
    const tmpPath = `${this.handle.path}.tmp`;
    const tmp = io.open(tmpPath, { create: true });
    tmp.truncate(0);
    tmp.writeAt(0, Buffer.concat([versionHeader(), encodeRecord(0, payload, crc)]));
    await tmp.sync();
    io.rename(tmpPath, this.handle.path);
    this.handle.close();
    this.handle = tmp;
    await io.syncDir(posix.dirname(tmpPath));
  }

  close(): void {
    this.handle.close();
  }
}

export class ClientsFile {
  readonly clients = new Map<string, ClientInfo>();
  private readonly log: TypedLog;

  constructor(root: string, context: TypedLogContext) {
    const path = posix.join(root, FileName.clients);
    this.log = TypedLog.open(path, CLIENT_TYPES, context, (type, payload) => {
      try {
        if (type === ClientRecord.add) {
          const info = decodeClientInfo(payload);
          this.clients.set(info.id, info);
        } else {
          this.clients.delete(decodeClientDelete(payload).id);
        }
        return undefined;
      } catch (error) {
        if (error instanceof RecordInvalidError) return error.message;
        throw error;
      }
    });
  }

  add(info: ClientInfo): Promise<void> {
    let payload: Buffer;
    try {
      checkClientInfo(info);
      payload = encodeClientInfo(info);
    } catch (error) {
      if (error instanceof TstanError && error.code === StoreErrorCode.ClientInvalid) return Promise.reject(error);
      return Promise.reject(new TstanError(StoreErrorCode.ClientInvalid, (error as Error).message, { cause: error }));
    }
    this.clients.set(info.id, { ...info, connId: new Uint8Array(info.connId) });
    this.log.append(ClientRecord.add, payload);
    return this.log.flush();
  }

  delete(clientId: string): Promise<boolean> {
    if (!this.clients.delete(clientId)) return Promise.resolve(false);
    this.log.append(ClientRecord.delete, encodeClientDelete({ id: clientId }));
    if (this.log.shouldCompact(() => this.clients.size)) {
      this.log.compact([...this.clients.values()].map((c) => [ClientRecord.add, encodeClientInfo(c)] as const));
    }
    return this.log.flush().then(() => true);
  }

  list(): ClientInfo[] {
    return [...this.clients.values()].map((c) => ({ ...c, connId: new Uint8Array(c.connId) }));
  }

  flush(): Promise<void> {
    return this.log.flush();
  }

  close(): void {
    this.log.close();
  }
}
