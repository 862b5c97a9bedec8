// The local OAuth server (tools/local-oauth-server.ts) in a child process of the bench, like a real
// token endpoint in its own process: its CPU does not delay the bench's timing of watch events. It is
// driven over the IPC channel (see oauth.ts): its options first (thousands of audiences do not fit in
// an argument: E2BIG), then count token requests, set a latency, issue refresh tokens, read its log of
// token requests and its OAuth error counts, inject faults, go off and on its port (chaos/), stop.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from './stats.ts';
import {
  startLocalOAuthServer,
  type LocalResourceServer,
  type TokenLogEntry,
} from '../tools/local-oauth-server.ts';

export interface OAuthChildOptions {
  clientId: string;
  clientSecret: string;
  /** Audiences the server accepts (one resource server each). */
  audiences: string[];
  scope: string;
  accessTokenTtlSeconds: number;
  /** Listen on this port (a restarted child takes its predecessor's place); a free one when absent. */
  port?: number;
  /** Where to write the CA (ca.pem) the operator must trust. */
  dir: string;
}

/** The first message the child receives. */
export interface OAuthChildSetup {
  kind: 'options';
  options: OAuthChildOptions;
}

/** A fault on token requests (see TokenFault); `seed` makes a partial fault replayable. */
export type OAuthChildFault =
  | { kind: 'none' }
  | { kind: 'status'; status: number; retryAfterSeconds?: number; ratio: number; seed: number }
  | { kind: 'black-hole' };

export interface OAuthChildStats {
  tokenRequests: number;
  errors: Record<string, number>;
  log: TokenLogEntry[];
}

export type OAuthChildRequest =
  | { id: number; kind: 'tokenRequests' }
  | { id: number; kind: 'latency'; ms: number }
  | { id: number; kind: 'refreshTokens'; audiences: string[] }
  | { id: number; kind: 'stats' }
  | { id: number; kind: 'fault'; fault: OAuthChildFault }
  | { id: number; kind: 'unavailable' }
  | { id: number; kind: 'available' }
  | { id: number; kind: 'stop' };

export type OAuthChildMessage =
  { kind: 'started'; issuer: string; caFile: string } | { kind: 'reply'; id: number; value: unknown };

const send = (message: OAuthChildMessage) => {
  process.send?.(message);
};

const options = await new Promise<OAuthChildOptions>((resolve) => {
  process.once('message', (setup: OAuthChildSetup) => {
    resolve(setup.options);
  });
});
const resourceServers: Record<string, LocalResourceServer> = {};
for (const audience of options.audiences) resourceServers[audience] = { scope: options.scope };
const server = await startLocalOAuthServer({
  clients: [
    { clientId: options.clientId, authMethod: 'client_secret_post', clientSecret: options.clientSecret },
  ],
  resourceServers,
  accessTokenTtlSeconds: options.accessTokenTtlSeconds,
  ...(options.port === undefined ? {} : { port: options.port }),
});
const caFile = join(options.dir, 'oauth-ca.pem');
await writeFile(caFile, server.caPem);

const reply = (id: number, value: unknown) => {
  send({ kind: 'reply', id, value });
};

process.on('message', (request: OAuthChildRequest) => {
  switch (request.kind) {
    case 'refreshTokens':
      void Promise.all(
        request.audiences.map((audience) =>
          server.issueRefreshToken(options.clientId, {
            resource: audience,
            scope: `offline_access ${options.scope}`,
          }),
        ),
      ).then((tokens) => {
        reply(request.id, tokens);
      });
      return;
    case 'stats':
      reply(request.id, {
        tokenRequests: server.tokenRequests(),
        errors: server.tokenErrors(),
        log: [...server.tokenLog()],
      } satisfies OAuthChildStats);
      return;
    case 'fault': {
      const { fault } = request;
      server.tweaks.fault =
        fault.kind === 'none'
          ? undefined
          : fault.kind === 'black-hole'
            ? fault
            : { ...fault, random: seededRandom(fault.seed) };
      reply(request.id, 0);
      return;
    }
    case 'unavailable':
      void server.unavailable().then(() => {
        reply(request.id, 0);
      });
      return;
    case 'available':
      void server.available().then(() => {
        reply(request.id, 0);
      });
      return;
    case 'tokenRequests':
      send({ kind: 'reply', id: request.id, value: server.tokenRequests() });
      return;
    case 'latency':
      server.tweaks.tokenLatencyMs = request.ms;
      send({ kind: 'reply', id: request.id, value: request.ms });
      return;
    case 'stop':
      void server.stop().then(() => {
        send({ kind: 'reply', id: request.id, value: 0 });
        process.disconnect();
      });
      return;
  }
});
// The parent going away ends this process too.
process.on('disconnect', () => process.exit(0));
send({ kind: 'started', issuer: server.issuer, caFile });
