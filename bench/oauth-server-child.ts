// The local OAuth server (tools/local-oauth-server.ts) in a child process of the bench, like a real
// token endpoint in its own process: its CPU does not delay the bench's timing of watch events. It is
// driven over the IPC channel (see oauth.ts): its options first (thousands of audiences do not fit in
// an argument: E2BIG), then count token requests, set a latency, stop.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startLocalOAuthServer, type LocalResourceServer } from '../tools/local-oauth-server.ts';

export interface OAuthChildOptions {
  clientId: string;
  clientSecret: string;
  /** Audiences the server accepts (one resource server each). */
  audiences: string[];
  scope: string;
  accessTokenTtlSeconds: number;
  /** Where to write the CA (ca.pem) the operator must trust. */
  dir: string;
}

/** The first message the child receives. */
export interface OAuthChildSetup {
  kind: 'options';
  options: OAuthChildOptions;
}

export type OAuthChildRequest =
  | { id: number; kind: 'tokenRequests' }
  | { id: number; kind: 'latency'; ms: number }
  | { id: number; kind: 'stop' };

export type OAuthChildMessage =
  { kind: 'started'; issuer: string; caFile: string } | { kind: 'reply'; id: number; value: number };

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
});
const caFile = join(options.dir, 'oauth-ca.pem');
await writeFile(caFile, server.caPem);

process.on('message', (request: OAuthChildRequest) => {
  switch (request.kind) {
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
