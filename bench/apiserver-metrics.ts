// Requests as the API server counts them (apiserver_request_total): the bench reads writes per refresh
// from the server's own /metrics, not from the operator's word.
import type { BenchKube } from './kube.ts';
import { delta, parseMetrics, sumBy } from './prom.ts';

export const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION']);

/** Requests by "VERB resource[/subresource]". */
export type RequestCounts = Map<string, number>;

export async function apiServerRequests(kube: BenchKube): Promise<RequestCounts> {
  const response = await kube.send('/metrics', { accept: 'text/plain' });
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const grouped = sumBy(parseMetrics(await response.text()), 'apiserver_request_total', [
    'verb',
    'resource',
    'subresource',
  ]);
  const counts: RequestCounts = new Map();
  for (const [key, value] of grouped) {
    const [verb = '', resource = '', subresource = ''] = key.split(' ');
    const name = `${verb} ${resource}${subresource === '' ? '' : `/${subresource}`}`;
    counts.set(name, (counts.get(name) ?? 0) + value);
  }
  return counts;
}

export function requestDelta(before: RequestCounts, after: RequestCounts): RequestCounts {
  return delta(before, after);
}

/** Only the writes of a delta; `resources` keeps those resources (and their subresources, e.g. vaultconnections/status). */
export function writesOf(counts: RequestCounts, resources?: readonly string[]): RequestCounts {
  const writes: RequestCounts = new Map();
  for (const [key, value] of counts) {
    const [verb = '', resource = ''] = key.split(' ');
    if (!WRITE_VERBS.has(verb)) continue;
    const base = resource.split('/')[0] ?? resource;
    if (resources !== undefined && !resources.includes(base)) continue;
    writes.set(key, value);
  }
  return writes;
}

export function total(counts: RequestCounts): number {
  let sum = 0;
  for (const value of counts.values()) sum += value;
  return sum;
}

export function asObject(counts: RequestCounts): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : 1)));
}
