// Server-side apply of arbitrary manifests over raw HTTP, as `kubectl apply --server-side [--dry-run=server]`
// does it, with strict field validation (an unknown or misspelt field is an error, not a silent prune).
// The resource of each kind comes from the API server's discovery, so any installed kind works.
// No vitest import: the integration global setup uses it too.
import type { KubeHttp } from '../../src/controller/kube-http.ts';
import type { KubeManifest } from './chart.ts';

export interface ApplyOptions {
  /** Validate and admit, persist nothing (`dryRun=All`). */
  dryRun?: boolean;
  fieldManager?: string;
  /** Take over fields other managers own (kubectl's `--force-conflicts`). */
  force?: boolean;
}

export interface ApplyOutcome {
  object: KubeManifest;
  status: number;
  /** The Status message when refused. */
  message: string;
  /** Warning headers (deprecations, pod security, unknown fields under a lenient validation). */
  warnings: string[];
  /** The object as the API server would store it (as it stores it, for a dry-run); absent when refused. */
  live?: unknown;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

export interface Applier {
  apply(object: KubeManifest, options?: ApplyOptions): Promise<ApplyOutcome>;
}

export function createApplier(http: KubeHttp): Applier {
  const discovery = new Map<string, Promise<ApiResource[]>>();
  const resources = (apiVersion: string) => {
    let found = discovery.get(apiVersion);
    if (found === undefined) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      found = http.json<{ resources: ApiResource[] }>(path).then((list) => list.resources);
      // A failed discovery (e.g. a CRD installed meanwhile) is asked again next time.
      found.catch(() => discovery.delete(apiVersion));
      discovery.set(apiVersion, found);
    }
    return found;
  };

  return {
    async apply(object, options = {}) {
      const resource = (await resources(object.apiVersion).catch(() => [])).find(
        (r) => r.kind === object.kind && !r.name.includes('/'),
      );
      if (resource === undefined) {
        return {
          object,
          status: 404,
          message: `the API server serves no ${object.kind} in ${object.apiVersion}`,
          warnings: [],
        };
      }
      const base = object.apiVersion.includes('/')
        ? `/apis/${object.apiVersion}`
        : `/api/${object.apiVersion}`;
      const namespace = object.metadata.namespace;
      if (resource.namespaced && namespace === undefined) {
        throw new Error(`${object.kind} ${object.metadata.name} is namespaced but has no namespace`);
      }
      const path = `${base}${resource.namespaced ? `/namespaces/${namespace ?? ''}` : ''}/${resource.name}/${object.metadata.name}`;
      const response = await http.send(path, {
        method: 'PATCH',
        query: {
          fieldManager: options.fieldManager ?? 'coffre-tests',
          fieldValidation: 'Strict',
          force: options.force ?? false,
          dryRun: options.dryRun === true ? 'All' : undefined,
        },
        contentType: 'application/apply-patch+yaml',
        body: JSON.stringify(object),
      });
      const text = await response.text();
      let message = '';
      let live: unknown;
      try {
        const body = JSON.parse(text) as unknown;
        if (response.ok) live = body;
        else message = (body as { message?: string }).message ?? text;
      } catch {
        message = text;
      }
      const warning = response.headers.get('warning');
      return {
        object,
        status: response.status,
        message,
        warnings: warning === null ? [] : splitWarnings(warning),
        ...(live === undefined ? {} : { live }),
      };
    },
  };
}

/** Warning headers arrive joined by ", " (RFC 9110 list): `299 - "text", 299 - "text"`. */
function splitWarnings(header: string): string[] {
  return [...header.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? '');
}

/**
 * Where the stored object differs from what was applied: the paths of applied values the API server
 * dropped or changed. A GitOps tool comparing Git with the cluster would report each as drift forever.
 */
export function driftOf(applied: unknown, live: unknown, path = ''): string[] {
  if (Array.isArray(applied)) {
    if (!Array.isArray(live) || live.length !== applied.length) return [path];
    return applied.flatMap((item, i) => driftOf(item, live[i], `${path}[${String(i)}]`));
  }
  if (applied !== null && typeof applied === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return [path];
    const liveObject = live as Record<string, unknown>;
    return Object.entries(applied).flatMap(([key, value]) =>
      key in liveObject ? driftOf(value, liveObject[key], `${path}.${key}`) : [`${path}.${key}`],
    );
  }
  return applied === live ? [] : [path];
}

/**
 * Applies every object; returns one line per object refused, drawing a warning, or stored otherwise
 * than applied (empty: all clean).
 */
export async function applyProblems(
  http: KubeHttp,
  objects: KubeManifest[],
  options: ApplyOptions = {},
): Promise<string[]> {
  const applier = createApplier(http);
  const problems: string[] = [];
  for (const object of objects) {
    const outcome = await applier.apply(object, options);
    const name = `${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (outcome.status >= 300) problems.push(`${name}: ${String(outcome.status)} ${outcome.message}`);
    for (const warning of outcome.warnings) problems.push(`${name}: warning: ${warning}`);
    if (outcome.live !== undefined) {
      for (const path of driftOf(object, outcome.live))
        problems.push(`${name}: stored otherwise than applied: ${path}`);
    }
  }
  return problems;
}
