// The monitoring HTTP server (`-m`): JSON endpoints registered by path, as nats-server serves
// /varz, /connz and /subsz and the streaming layer adds /streaming/*. Handlers are functions of
// the query string; what they return is sent as indented JSON, or as-is for a RawResponse. The
// root `/` lists every endpoint: an HTML page of links for a browser, as nats-server serves one,
// and `{ "endpoints": [...] }` for everything else.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from '../util/logger.js';
import { listenOn } from '../util/listen.js';
import type { TlsServerOptions } from '../transport/nats/tls-context.js';

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

  /** Listens over HTTP, or over HTTPS with `tls` (`-ms`). */
  async listen(host: string, port: number, tls?: TlsServerOptions): Promise<number> {
    // node:http(s) is loaded only by a node that serves monitoring: it costs start-up time otherwise.
    const handler = (request: IncomingMessage, response: ServerResponse): void => void this.handle(request, response);
    let server: Server;
    if (tls === undefined) {
      const { createServer } = await import('node:http');
      server = createServer(handler);
    } else {
      const { createServer } = await import('node:https');
      server = createServer({ ...tls }, handler);
    }
    this.server = server;
    return listenOn(server, host, port, tls === undefined ? 'monitoring' : 'HTTPS monitoring');
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://monitor');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    if (path === '/' && !this.routes.has('/')) {
      this.sendIndex(request, response);
      return;
    }
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

  /** HTML when the client prefers it (browsers send `Accept: text/html,...`), JSON otherwise. */
  private sendIndex(request: IncomingMessage, response: ServerResponse): void {
    const paths = this.paths();
    if (!prefersHtml(request.headers.accept)) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ endpoints: paths }, null, 2));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(indexPage(paths));
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

/** True when `accept` names text/html before (or without) application/json, as browsers send it. */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const types = accept.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase());
  const html = types.indexOf('text/html');
  const json = types.indexOf('application/json');
  return html >= 0 && (json < 0 || html < json);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The page of links to every endpoint, plain HTML with no script or external resource. */
function indexPage(paths: readonly string[]): string {
  const links = paths.map((path) => `    <li><a href=".${escapeHtml(path)}">${escapeHtml(path)}</a></li>`).join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><title>tstan monitoring</title></head>',
    '<body>',
    '  <h1>tstan monitoring</h1>',
    '  <p>The endpoints answer JSON (<code>/metrics</code>: Prometheus text); <code>/streaming/*</code> as nats-streaming-server does, the others as nats-server does.</p>',
    '  <ul>',
    links,
    '  </ul>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
