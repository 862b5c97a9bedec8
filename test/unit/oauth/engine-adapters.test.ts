// The engine's adapter dispatch: a request's flavour picks the token adapter the engine was given;
// nothing about a vendor is built into the engine.
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenEngine, type TokenEngine, type TokenRequestEvent } from '../../../src/oauth/engine.ts';
import { OAuthError } from '../../../src/oauth/errors.ts';
import type { TokenAdapter } from '../../../src/oauth/token-adapter.ts';
import type { TokenRequest } from '../../../src/oauth/types.ts';
import { secret } from '../../../src/secrets/secret-value.ts';
import { FakeClock } from '../../support/fake-clock.ts';

const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
const request = (flavour: string): TokenRequest => ({
  client: { issuer: 'https://vendor.example', authMethod: 'client_secret_post', clientId: 'app' },
  grant: { type: 'client_credentials' },
  flavour,
});

const vendor: TokenAdapter = {
  flavour: 'vendor',
  tokenEndpoint: () => new URL('https://tokens.vendor.example/token'),
  requestToken: (context) =>
    Promise.resolve({
      accessToken: secret('vendor-token'),
      tokenType: 'Bearer',
      issuedAt: context.clock.now(),
    }),
};

let engine: TokenEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

describe('token adapters', () => {
  it("should send a request of an adapter's flavour through that adapter, labelled with its host", async () => {
    const events: TokenRequestEvent[] = [];
    engine = createTokenEngine({
      clock,
      adapters: [vendor],
      observer: { tokenRequest: (e) => events.push(e) },
    });
    const token = await engine.getToken(request('vendor'));
    expect(token.accessToken.reveal()).toBe('vendor-token');
    expect(events).toMatchObject([{ host: 'tokens.vendor.example', flavour: 'vendor', outcome: 'success' }]);
  });

  it("should resolve a client of an adapter's flavour to the adapter's endpoint, without discovery", async () => {
    engine = createTokenEngine({ clock, adapters: [vendor] });
    await expect(engine.resolveClient(request('vendor').client, 'vendor')).resolves.toEqual({
      tokenEndpoint: 'https://tokens.vendor.example/token',
      authMethod: 'client_secret_post',
      warnings: [],
    });
  });

  it('should refuse a flavour it has no adapter for, before sending anything', async () => {
    const events: TokenRequestEvent[] = [];
    engine = createTokenEngine({ clock, observer: { tokenRequest: (e) => events.push(e) } });
    const error = await engine.getToken(request('github-app')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).code).toBe('invalid_configuration');
    expect(events).toMatchObject([{ host: 'invalid', sent: false, outcome: 'invalid_configuration' }]);
    await expect(engine.resolveClient(request('github-app').client, 'github-app')).rejects.toMatchObject({
      code: 'invalid_configuration',
    });
  });

  it.each([
    ['two adapters of one flavour', [vendor, vendor]],
    ['an adapter claiming the standard flavour', [{ ...vendor, flavour: 'standard' }]],
  ])('should refuse %s', (_what, adapters) => {
    expect(() => createTokenEngine({ clock, adapters })).toThrow(/is taken/);
  });
});
