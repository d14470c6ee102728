// Proves the monitoring root of a spawned tstan: a browser (Accept: text/html) gets an HTML page
// linking every endpoint, as nats-server serves one; anything else gets the endpoints as JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefersHtml } from '../../src/monitor/http-server.js';
import { startTstan, type TstanProcess } from '../support/tstan-process.js';

const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('monitoring root /', () => {
  let node: TstanProcess;

  beforeAll(async () => {
    node = await startTstan([]);
  });

  afterAll(async () => {
    expect(await node.stop('SIGTERM')).toBe(0);
  });

  it('serves a browser an HTML page that links every endpoint', async () => {
    const response = await fetch(`http://127.0.0.1:${node.httpPort}/`, { headers: { accept: browserAccept } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toMatch(/^<!DOCTYPE html>/);
    const links = [...page.matchAll(/<a href="\.([^"]+)">/g)].map((match) => match[1]);
    expect(links).toEqual(expect.arrayContaining([
      '/varz', '/connz', '/subsz', '/routez', '/healthz', '/readyz', '/metrics',
      '/streaming/serverz', '/streaming/storez', '/streaming/clientsz', '/streaming/channelsz',
    ]));
    // Every link answers.
    for (const link of links) expect((await fetch(`http://127.0.0.1:${node.httpPort}${link}`)).status, link).toBe(200);
  });

  it('answers JSON to a client that does not ask for HTML', async () => {
    for (const accept of [undefined, 'application/json', '*/*', 'application/json, text/html']) {
      const response = await fetch(`http://127.0.0.1:${node.httpPort}/`, accept === undefined ? {} : { headers: { accept } });
      expect(response.headers.get('content-type')).toBe('application/json');
      const body = (await response.json()) as { endpoints: string[] };
      expect(body.endpoints).toContain('/streaming/serverz');
    }
  });

  it('reads Accept the way browsers and tools send it', () => {
    expect(prefersHtml(browserAccept)).toBe(true);
    expect(prefersHtml('text/html')).toBe(true);
    expect(prefersHtml('application/json;q=1, text/html')).toBe(false);
    expect(prefersHtml(undefined)).toBe(false);
    expect(prefersHtml('')).toBe(false);
  });
});
