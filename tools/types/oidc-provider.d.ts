// The part of oidc-provider 9 that tools/local-oauth-server.ts uses (the package ships no types).
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface OidcContext {
    params?: Record<string, unknown>;
    body?: Record<string, unknown>;
    route?: string;
  }

  export interface KoaContextWithOIDC {
    path: string;
    method: string;
    status: number;
    oidc?: OidcContext;
  }

  export type Middleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;

  export interface ClientModel {
    clientId: string;
  }

  export interface GrantModel {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface TokenModel {
    save(): Promise<string>;
  }

  export interface StoredToken {
    isValid: boolean;
    consumed?: unknown;
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: Middleware): void;
    on(event: string, listener: (...args: unknown[]) => void): this;
    Client: { find(id: string): Promise<ClientModel | undefined> };
    Grant: new (init: { accountId: string; clientId: string }) => GrantModel;
    RefreshToken: (new (init: Record<string, unknown>) => TokenModel) & {
      find(value: string): Promise<StoredToken | undefined>;
    };
    ClientCredentials: { find(value: string): Promise<StoredToken | undefined> };
  }

  export const errors: {
    InvalidTarget: new (description?: string) => Error;
  };

  export default Provider;
}
