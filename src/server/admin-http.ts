// The AdminServer: GET /commands, /commands/<name> (JSON, as ZooKeeper's Jetty
// AdminServer answers) and GET /metrics (Prometheus text format).

import http from 'node:http';
import type { ZkServer } from './zk-server.js';
import { ADMIN_COMMANDS, adminCommand } from './fourletter.js';

export async function startAdminServer(zk: ZkServer, host: string, port: number, base: string): Promise<http.Server> {
  const prefix = base.endsWith('/') ? base.slice(0, -1) : base;
  const server = http.createServer((req, res) => {
    void handle(zk, prefix, req, res).catch((err: Error) => {
      zk.log.error({ err }, 'admin request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: err.message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

async function handle(zk: ZkServer, prefix: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const p = url.pathname;
  if (p === '/metrics') {
    const registry = await zk.metrics.registry();
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(text);
    return;
  }
  if (p === prefix || p === prefix + '/') {
    const links = ADMIN_COMMANDS.map((c) => `<a href="${prefix}/${c}">${c}</a><br/>`).join('\n');
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html><body>\n<h1>Kraal AdminServer</h1>\n${links}\n</body></html>\n`);
    return;
  }
  if (p.startsWith(prefix + '/')) {
    const name = decodeURIComponent(p.slice(prefix.length + 1));
    const { status, body } = adminCommand(zk, name, url.searchParams);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body, null, 2) + '\n');
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
}
