// The operator's HTTP endpoints: /metrics (Prometheus) and /healthz, /readyz (kubelet probes). Each is
// served on its own port so the metrics port can be exposed to Prometheus without the probes, and vice
// versa. Nothing here reads a Secret or prints one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { HealthReport } from '../controller/manager.ts';

export interface Endpoint {
  server: Server;
  port: number;
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      resolve({
        server,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => {
              done();
            });
            server.closeAllConnections();
          }),
      });
    });
  });
}

export function serveMetrics(registry: Registry, host: string, port: number): Promise<Endpoint> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType }).end(text);
      },
      () => {
        res.writeHead(500).end();
      },
    );
  });
  return listen(server, host, port);
}

export function serveHealth(health: () => HealthReport, host: string, port: number): Promise<Endpoint> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const report = health();
    const answer = (ok: boolean) => {
      res
        .writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ ok, leader: report.leader, detail: report.detail }));
    };
    if (path === '/healthz' || path === '/livez') answer(report.live);
    else if (path === '/readyz') answer(report.ready);
    else res.writeHead(404).end();
  });
  return listen(server, host, port);
}
