// A bare HTTPS server on 127.0.0.1 with a certificate from a per-run CA (tools/tls.ts): the base of the
// Slack- and Shopify-shaped servers and of the hostile servers in the tests. It counts requests by
// path and can drop off its port and come back on the same one.
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from './tls.ts';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface LocalHttpsServerOptions {
  handler: RequestHandler;
  /** CA to sign the server certificate; a fresh one in a temporary directory when absent. */
  ca?: CertificateAuthority;
  /** Port on 127.0.0.1; a free one when absent. */
  port?: number;
}

export interface LocalHttpsServer {
  /** `https://127.0.0.1:{port}` */
  readonly url: string;
  readonly port: number;
  /** PEM of the CA that signed the certificate (valid for 127.0.0.1 and localhost). */
  readonly caPem: string;
  readonly ca: CertificateAuthority;
  readonly server: Server;
  /** Requests received, for one path or all. */
  requests(path?: string): number;
  resetCounters(): void;
  unavailable(): Promise<void>;
  available(): Promise<void>;
  stop(): Promise<void>;
}

/** A CA in a fresh temporary directory, and a function that removes it. */
export async function createTemporaryCertificateAuthority(
  name = 'coffre local CA',
): Promise<{ ca: CertificateAuthority; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'coffre-ca-'));
  return {
    ca: await createCertificateAuthority(dir, name),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

let certificateSerial = 0;

export async function startLocalHttpsServer(options: LocalHttpsServerOptions): Promise<LocalHttpsServer> {
  const own = options.ca === undefined ? await createTemporaryCertificateAuthority() : undefined;
  const ca = options.ca ?? (own as { ca: CertificateAuthority }).ca;
  certificateSerial += 1;
  const certificate = await issueCertificate(ca, {
    name: `https-${process.pid}-${certificateSerial}-${Date.now()}`,
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const counts = new Map<string, number>();
  const server = createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    Promise.resolve(options.handler(req, res)).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await listen(server, options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  let listening = true;

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    caPem: ca.certPem,
    ca,
    server,
    requests(path) {
      if (path !== undefined) return counts.get(path) ?? 0;
      return [...counts.values()].reduce((sum, count) => sum + count, 0);
    },
    resetCounters() {
      counts.clear();
    },
    async unavailable() {
      if (!listening) return;
      listening = false;
      await close(server);
    },
    async available() {
      if (listening) return;
      await listen(server, port);
      listening = true;
    },
    async stop() {
      if (listening) {
        listening = false;
        await close(server);
      }
      await own?.remove();
    },
  };
}

export function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  server.closeAllConnections();
  return closed;
}

export function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Reads a request body (bounded) as text. */
export async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a form or JSON request body into string fields. */
export async function readFields(req: IncomingMessage): Promise<Record<string, string>> {
  const text = await readBody(req);
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    const parsed: unknown = JSON.parse(text);
    const fields: Record<string, string> = {};
    if (typeof parsed === 'object' && parsed !== null) {
      for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') fields[key] = value;
    }
    return fields;
  }
  return Object.fromEntries(new URLSearchParams(text));
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}
