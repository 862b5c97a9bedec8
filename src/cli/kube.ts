// The CLI's view of the cluster: the user's kubeconfig (KUBECONFIG, --kubeconfig, --context), the
// namespace kubectl would use, and the few reads and writes the commands make, each as the user — never
// more than the command needs. Built on the operator's raw HTTP client (src/controller/), so the CLI
// speaks to the API server exactly as the operator does and keeps one import path for it.
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, type OAuthClient, type VaultConnection } from '../api/v1alpha1/resources.ts';
import { slimKubeConfig } from '../controller/kube-config.ts';
import { createKubeHttp, isKubeApiError, type KubeHttp, type KubeRequest } from '../controller/kube-http.ts';
import { CliError, ExitCode } from './errors.ts';

export interface KubeTarget {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  resourceVersion?: string;
}

export interface KubeEvent {
  metadata: ObjectMeta;
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
}

export interface DeploymentLike {
  metadata: ObjectMeta;
  spec?: {
    template?: {
      spec?: {
        containers?: {
          name: string;
          image?: string;
          args?: string[];
          env?: { name: string; value?: string }[];
          volumeMounts?: { name: string; mountPath: string }[];
        }[];
        volumes?: {
          name: string;
          configMap?: { name: string; items?: { key: string; path: string }[] };
        }[];
      };
    };
  };
}

export interface AccessQuestion {
  verb: string;
  resource: string;
  group?: string;
  name?: string;
}

/** What a Secret holds, without its values: the CLI drops them the moment it has read them. */
export interface SecretShape {
  name: string;
  type: string;
  /** Keys with a non-blank value. */
  keys: string[];
  /** Keys present but blank. */
  blankKeys: string[];
  annotations: Record<string, string>;
}

export type SecretLookup =
  { found: true; secret: SecretShape } | { found: false; why: 'not-found' | 'forbidden'; message: string };

const connections = (namespace: string | undefined, name?: string) =>
  `/apis/${API_VERSION}${namespace === undefined ? '' : `/namespaces/${namespace}`}/vaultconnections${name === undefined ? '' : `/${name}`}`;

export class CliKube {
  readonly http: KubeHttp;
  /** The namespace of -n, else of the kubeconfig context, else `default`. */
  readonly namespace: string;
  readonly user: string;

  constructor(http: KubeHttp, namespace: string, user: string) {
    this.http = http;
    this.namespace = namespace;
    this.user = user;
  }

  static async connect(target: KubeTarget): Promise<CliKube> {
    const KubeConfigClass = await slimKubeConfig();
    const kc: KubeConfig = new KubeConfigClass();
    try {
      if (target.kubeconfig === undefined) kc.loadFromDefault();
      else kc.loadFromFile(target.kubeconfig);
      if (target.context !== undefined) {
        if (kc.getContextObject(target.context) === null) {
          throw new CliError(`context "${target.context}" is not in the kubeconfig`, ExitCode.Usage);
        }
        kc.setCurrentContext(target.context);
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`cannot load the kubeconfig: ${messageOf(error)}`, ExitCode.Usage, { cause: error });
    }
    const context = kc.getContextObject(kc.getCurrentContext());
    const namespace = target.namespace ?? context?.namespace ?? 'default';
    const http = createKubeHttp(kc, { userAgent: 'kubectl-coffre', requestTimeoutMs: 15_000 });
    return new CliKube(http, namespace, kc.getCurrentUser()?.name ?? '');
  }

  /** Who the API server says the caller is (SelfSubjectReview); the kubeconfig's user name otherwise. */
  async whoAmI(): Promise<string> {
    try {
      const review = await this.http.json<{ status?: { userInfo?: { username?: string } } }>(
        '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        {
          method: 'POST',
          contentType: 'application/json',
          body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
        },
      );
      return review.status?.userInfo?.username ?? this.user;
    } catch {
      return this.user;
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /** A request whose refusals become CliErrors that say what was refused. */
  async json<T>(path: string, request?: KubeRequest): Promise<T> {
    try {
      return await this.http.json<T>(path, request);
    } catch (error) {
      throw asCliError(error);
    }
  }

  /** Like json(), but a 404 is `undefined`. */
  async optional<T>(path: string): Promise<T | undefined> {
    try {
      return await this.http.json<T>(path);
    } catch (error) {
      if (isKubeApiError(error, 404)) return undefined;
      throw asCliError(error);
    }
  }

  async listConnections(namespace: string | undefined): Promise<VaultConnection[]> {
    const items: VaultConnection[] = [];
    let token: string | undefined;
    do {
      const page = await this.json<{ items: VaultConnection[]; metadata?: { continue?: string } }>(
        connections(namespace),
        { query: { limit: 500, continue: token } },
      );
      items.push(...page.items);
      token = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
    } while (token !== undefined);
    return items;
  }

  async getConnection(namespace: string, name: string): Promise<VaultConnection> {
    const found = await this.optional<VaultConnection>(connections(namespace, name));
    if (found === undefined) {
      throw new CliError(`vaultconnection "${name}" not found in namespace "${namespace}"`, ExitCode.Usage);
    }
    return found;
  }

  getOAuthClient(namespace: string, name: string): Promise<OAuthClient | undefined> {
    return this.optional<OAuthClient>(`/apis/${API_VERSION}/namespaces/${namespace}/oauthclients/${name}`);
  }

  /** Merge-patches a connection's annotations (what `kubectl annotate --overwrite` does). */
  async annotateConnection(namespace: string, name: string, annotations: Record<string, string>) {
    return this.json<VaultConnection>(connections(namespace, name), {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ metadata: { annotations } }),
    });
  }

  /**
   * A Secret's keys and annotations. The values are read (the API has no keys-only view) and dropped
   * here: nothing that leaves this function can hold one.
   */
  async secretShape(namespace: string, name: string): Promise<SecretLookup> {
    try {
      const secret = await this.http.json<{
        type?: string;
        data?: Record<string, string>;
        metadata?: ObjectMeta;
      }>(`/api/v1/namespaces/${namespace}/secrets/${name}`);
      const keys: string[] = [];
      const blankKeys: string[] = [];
      for (const [key, value] of Object.entries(secret.data ?? {})) {
        (Buffer.from(value, 'base64').toString('utf8').trim() === '' ? blankKeys : keys).push(key);
      }
      return {
        found: true,
        secret: {
          name,
          type: secret.type ?? 'Opaque',
          keys: keys.sort(),
          blankKeys: blankKeys.sort(),
          annotations: secret.metadata?.annotations ?? {},
        },
      };
    } catch (error) {
      if (isKubeApiError(error, 404)) return { found: false, why: 'not-found', message: 'not found' };
      if (isKubeApiError(error, 403)) {
        return { found: false, why: 'forbidden', message: `you may not get Secret ${name}` };
      }
      throw asCliError(error);
    }
  }

  /** The Events about one object, oldest first; undefined when the user may not list Events. */
  async eventsFor(namespace: string, kind: string, name: string): Promise<KubeEvent[] | undefined> {
    try {
      const list = await this.http.json<{ items: KubeEvent[] }>(`/api/v1/namespaces/${namespace}/events`, {
        query: { fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` },
      });
      return list.items.sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
    } catch (error) {
      if (isKubeApiError(error, 403)) return undefined;
      throw asCliError(error);
    }
  }

  /** Whether the user may do something (SelfSubjectAccessReview, which every authenticated user may ask). */
  async can(namespace: string, question: AccessQuestion): Promise<boolean> {
    const review = await this.json<{ status?: { allowed?: boolean } }>(
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              namespace,
              verb: question.verb,
              resource: question.resource,
              group: question.group ?? '',
              ...(question.name === undefined ? {} : { name: question.name }),
            },
          },
        }),
      },
    );
    return review.status?.allowed === true;
  }

  /** The operator's Deployment (label app.kubernetes.io/name=coffre) in its namespace, if readable. */
  async operatorDeployment(namespace: string): Promise<{ found: DeploymentLike } | { missing: string }> {
    try {
      const list = await this.http.json<{ items: DeploymentLike[] }>(
        `/apis/apps/v1/namespaces/${namespace}/deployments`,
        { query: { labelSelector: 'app.kubernetes.io/name=coffre' } },
      );
      const found = list.items[0];
      return found === undefined
        ? { missing: `no Deployment labelled app.kubernetes.io/name=coffre in namespace ${namespace}` }
        : { found };
    } catch (error) {
      if (isKubeApiError(error, 403)) {
        return { missing: `you may not list Deployments in namespace ${namespace}` };
      }
      throw asCliError(error);
    }
  }

  async configMapValue(namespace: string, name: string, key: string): Promise<string | undefined> {
    try {
      const map = await this.http.json<{ data?: Record<string, string> }>(
        `/api/v1/namespaces/${namespace}/configmaps/${name}`,
      );
      return map.data?.[key];
    } catch {
      return undefined;
    }
  }
}

function eventTime(event: KubeEvent): string {
  return (
    event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp ?? ''
  );
}

export function eventTimestamp(event: KubeEvent): string {
  return eventTime(event);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function asCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (isKubeApiError(error, 403)) return new CliError(`forbidden: ${error.message}`, ExitCode.Api);
  return new CliError(messageOf(error), ExitCode.Api, { cause: error });
}
