// Shared set-up for the oauth suite: one CA per test file, and helpers for hostile HTTPS servers.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import {
  createTemporaryCertificateAuthority,
  startLocalHttpsServer,
  type LocalHttpsServer,
  type RequestHandler,
} from '../../../tools/local-https-server.ts';
import type { CertificateAuthority } from '../../../tools/tls.ts';

/** A CA created before the file's tests and removed after them. */
export function useCertificateAuthority(): { readonly ca: CertificateAuthority } {
  const holder: { ca?: CertificateAuthority; remove?: () => Promise<void> } = {};
  beforeAll(async () => {
    const created = await createTemporaryCertificateAuthority('coffre test CA');
    holder.ca = created.ca;
    holder.remove = created.remove;
  });
  afterAll(async () => {
    await holder.remove?.();
  });
  return {
    get ca() {
      if (holder.ca === undefined) throw new Error('CA not ready');
      return holder.ca;
    },
  };
}

/** HTTPS servers started by a test file, stopped after it. */
export function useHttpsServers(authority: { readonly ca: CertificateAuthority }) {
  const started: LocalHttpsServer[] = [];
  afterAll(async () => {
    await Promise.all(started.map((server) => server.stop()));
  });
  return async (handler: RequestHandler): Promise<LocalHttpsServer> => {
    const server = await startLocalHttpsServer({ handler, ca: authority.ca });
    started.push(server);
    return server;
  };
}

/** Writes `total` bytes in chunks, respecting back-pressure; resolves with the bytes actually written. */
export function streamBytes(res: ServerResponse, total: number, chunkSize = 64 * 1024): Promise<number> {
  const chunk = Buffer.alloc(chunkSize, 0x61);
  let written = 0;
  return new Promise((resolve) => {
    const finish = () => {
      resolve(written);
    };
    res.once('close', finish);
    const pump = () => {
      while (written < total && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  });
}
