// The bench's handle on its local OAuth server child (oauth-server-child.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type {
  OAuthChildFault,
  OAuthChildMessage,
  OAuthChildOptions,
  OAuthChildRequest,
  OAuthChildSetup,
  OAuthChildStats,
} from './oauth-server-child.ts';

export const CLIENT_ID = 'bench-m2m';
export const CLIENT_SECRET = 'bench-m2m-secret-0123456789abcdef';
export const SCOPE = 'read:users';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface BenchOAuthServer {
  readonly issuer: string;
  /** PEM file of the CA that signed the server's certificate. */
  readonly caFile: string;
  readonly port: number;
  tokenRequests(): Promise<number>;
  setLatency(ms: number): Promise<void>;
  /** One refresh token per audience, as if a user had authorised each (scope offline_access). */
  refreshTokens(audiences: string[]): Promise<string[]>;
  /** The server's log of token requests and its OAuth error counts. */
  stats(): Promise<OAuthChildStats>;
  fault(fault: OAuthChildFault): Promise<void>;
  /** Off its port (connections refused) and back on the same one. */
  unavailable(): Promise<void>;
  available(): Promise<void>;
  stop(): Promise<void>;
}

/** The audience of connection `index` when every connection needs its own token. */
export function audienceOf(index: number): string {
  return `https://api.bench.test/${index}/`;
}

export async function startOAuthServer(
  options: Pick<OAuthChildOptions, 'audiences' | 'accessTokenTtlSeconds' | 'dir' | 'port'>,
): Promise<BenchOAuthServer> {
  const childOptions: OAuthChildOptions = {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    scope: SCOPE,
    ...options,
  };
  const child: ChildProcess = fork(join(import.meta.dirname, 'oauth-server-child.ts'));
  child.send({ kind: 'options', options: childOptions } satisfies OAuthChildSetup);
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  const started = await new Promise<{ issuer: string; caFile: string }>((resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`the OAuth server child exited (${String(code)}) before starting`));
    });
    child.on('message', (message: OAuthChildMessage) => {
      if (message.kind === 'started') resolve(message);
      else pending.get(message.id)?.(message.value);
    });
  });
  child.removeAllListeners('exit');
  const ask = <T = number>(request: WithoutId<OAuthChildRequest>) =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      pending.set(id, (value) => {
        pending.delete(id);
        resolve(value as T);
      });
      child.send({ ...request, id });
    });
  return {
    issuer: started.issuer,
    caFile: started.caFile,
    port: Number(new URL(started.issuer).port),
    tokenRequests: () => ask({ kind: 'tokenRequests' }),
    async setLatency(ms) {
      await ask({ kind: 'latency', ms });
    },
    refreshTokens: (audiences) => ask<string[]>({ kind: 'refreshTokens', audiences }),
    stats: () => ask<OAuthChildStats>({ kind: 'stats' }),
    async fault(fault) {
      await ask({ kind: 'fault', fault });
    },
    async unavailable() {
      await ask({ kind: 'unavailable' });
    },
    async available() {
      await ask({ kind: 'available' });
    },
    async stop() {
      if (!child.connected) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await ask({ kind: 'stop' });
      await exited;
    },
  };
}
