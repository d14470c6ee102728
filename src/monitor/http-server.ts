// The monitoring HTTP server (`-m`): JSON endpoints registered by path, as nats-server serves
// /varz, /connz and /subsz and the streaming layer adds /streaming/*. Handlers are functions of
// the query string; what they return is sent as indented JSON, or as-is for a RawResponse.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../util/logger.js';

export class RawResponse {
  constructor(
    readonly contentType: string,
    readonly body: string,
    readonly status = 200,
  ) {}
}

export type MonitorHandler = (query: URLSearchParams) => unknown;

export class MonitorHttpServer {
  private readonly routes = new Map<string, MonitorHandler>();
  private server: Server | null = null;

  constructor(private readonly logger: Logger) {}

  /** Registers (or replaces) the handler of `path`, e.g. `/varz`. */
  route(path: string, handler: MonitorHandler): void {
    this.routes.set(path, handler);
  }

  paths(): string[] {
    return [...this.routes.keys()].sort();
  }

  async listen(host: string, port: number): Promise<number> {
    const server = createServer((request, response) => void this.handle(request, response));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://monitor');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const handler = this.routes.get(path);
    if (!handler) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('404 page not found\n');
      return;
    }
    try {
      const result = await handler(url.searchParams);
      if (result instanceof RawResponse) {
        response.writeHead(result.status, { 'content-type': result.contentType });
        response.end(result.body);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(result, null, 2));
    } catch (error) {
      this.logger.warn({ err: error, path }, 'monitoring request failed');
      const status = error instanceof MonitorRequestError ? 400 : 500;
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(`${error instanceof Error ? error.message : String(error)}\n`);
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A bad query parameter: answered with 400 and the message. */
export class MonitorRequestError extends Error {}
