// Counters read at two moments and subtracted: what a phase of a scenario cost, by the API server's
// count, the OAuth server's count and the operator's own metrics.
import {
  apiServerRequests,
  asObject,
  requestDelta,
  total,
  writesOf,
  type RequestCounts,
} from './apiserver-metrics.ts';
import type { BenchCluster } from './cluster.ts';
import type { BenchOAuthServer } from './oauth.ts';
import type { OperatorProcess } from './operator-process.ts';
import { sum, type Sample } from './prom.ts';
import { round } from './stats.ts';

export interface Snapshot {
  at: number;
  requests: RequestCounts;
  tokenRequests: number;
  operator: Sample[];
  serverCpu: Record<string, number>;
}

export async function snapshot(
  cluster: BenchCluster,
  oauth: BenchOAuthServer | undefined,
  operator: OperatorProcess | undefined,
): Promise<Snapshot> {
  const [requests, tokenRequests, samples, serverCpu] = await Promise.all([
    apiServerRequests(cluster.kube),
    oauth?.tokenRequests() ?? Promise.resolve(0),
    operator?.metrics() ?? Promise.resolve([]),
    cluster.serverCpu(),
  ]);
  return { at: Date.now(), requests, tokenRequests, operator: samples, serverCpu };
}

/** The resources the operator writes; other writes (the API server's own leases) are not its doing. */
export const OPERATOR_RESOURCES = ['secrets', 'vaultconnections', 'events', 'oauthclients'];
/** Writes the bench itself makes while it measures (applying connections): not the operator's. */
const BENCH_WRITES = ['POST vaultconnections'];

export interface PhaseCost {
  durationMs: number;
  /** Writes the API server counted on the operator's resources (not the bench's), by "VERB resource[/subresource]". */
  apiServerWrites: Record<string, number>;
  apiServerWritesTotal: number;
  /** Reads (GET/LIST) the API server counted on the operator's resources. */
  apiServerReads: Record<string, number>;
  /** Token requests the OAuth server received. */
  tokenRequests: number;
  /** The operator's own counts. */
  operatorTokenRequests: number;
  operatorSharedHits: number;
  operatorWrites: number;
  reconciles: number;
  refreshes: number;
  /** CPU seconds the operator used. */
  operatorCpuSeconds: number;
  /** CPU seconds kube-apiserver and etcd used. */
  apiServerCpuSeconds: number;
  etcdCpuSeconds: number;
}

export function cost(before: Snapshot, after: Snapshot): PhaseCost {
  const requests = requestDelta(before.requests, after.requests);
  const writes = writesOf(requests, OPERATOR_RESOURCES);
  for (const key of BENCH_WRITES) writes.delete(key);
  const reads = new Map(
    [...requests].filter(([key]) => {
      const [verb = '', resource = ''] = key.split(' ');
      return (verb === 'GET' || verb === 'LIST') && OPERATOR_RESOURCES.includes(resource.split('/')[0] ?? '');
    }),
  );
  const diff = (name: string, where: Record<string, string> = {}) =>
    sum(after.operator, name, where) - sum(before.operator, name, where);
  return {
    durationMs: after.at - before.at,
    apiServerWrites: asObject(writes),
    apiServerWritesTotal: total(writes),
    apiServerReads: asObject(reads),
    tokenRequests: after.tokenRequests - before.tokenRequests,
    operatorTokenRequests: diff('coffre_token_requests_total'),
    operatorSharedHits: diff('coffre_shared_token_hits_total'),
    operatorWrites: diff('coffre_api_writes_total'),
    reconciles: diff('coffre_reconcile_total', { controller: 'vaultconnection' }),
    refreshes: diff('coffre_token_refreshes_total', { result: 'success' }),
    operatorCpuSeconds: round(diff('coffre_process_cpu_seconds_total'), 2),
    apiServerCpuSeconds: round(
      (after.serverCpu['kube-apiserver'] ?? 0) - (before.serverCpu['kube-apiserver'] ?? 0),
      2,
    ),
    etcdCpuSeconds: round((after.serverCpu.etcd ?? 0) - (before.serverCpu.etcd ?? 0), 2),
  };
}
