// A V8 heap snapshot (node --heapsnapshot-signal) summarised as DevTools' "Summary" view does: the
// live objects' self size and count by constructor, with V8's internal kinds in parentheses ((string),
// (array), (closure), (compiled code), (system)...). Two summaries at two sizes give the heap per
// connection of each kind. Only names of kinds are kept, never a string's contents.
import { readFile } from 'node:fs/promises';

export interface HeapGroup {
  name: string;
  count: number;
  selfBytes: number;
}

export interface HeapSummary {
  totalBytes: number;
  nodes: number;
  /** Every group, largest first. */
  groups: HeapGroup[];
}

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const STRING_TYPES = new Set(['string', 'concatenated string', 'sliced string']);

function groupName(type: string, name: string): string {
  if (type === 'object' || type === 'native') return name;
  if (STRING_TYPES.has(type)) return '(string)';
  if (type === 'code') return '(compiled code)';
  if (type === 'hidden' || type === 'object shape' || type === 'synthetic') return '(system)';
  return `(${type})`;
}

/** Pure: the summary of a parsed snapshot. */
export function summarise(raw: RawSnapshot): HeapSummary {
  const fields = raw.snapshot.meta.node_fields;
  const types = raw.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, HeapGroup>();
  let totalBytes = 0;
  const { nodes, strings } = raw;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt] ?? 0] ?? 'unknown';
    const name = groupName(type, strings[nodes[i + nameAt] ?? 0] ?? '');
    const size = nodes[i + sizeAt] ?? 0;
    totalBytes += size;
    let group = groups.get(name);
    if (group === undefined) {
      group = { name, count: 0, selfBytes: 0 };
      groups.set(name, group);
    }
    group.count++;
    group.selfBytes += size;
  }
  return {
    totalBytes,
    nodes: nodes.length / width,
    groups: [...groups.values()].sort((a, b) => b.selfBytes - a.selfBytes),
  };
}

export async function summariseFile(path: string): Promise<HeapSummary> {
  return summarise(JSON.parse(await readFile(path, 'utf8')) as RawSnapshot);
}

export interface PerConnectionGroup {
  name: string;
  /** Objects of this kind per extra connection. */
  count: number;
  /** Bytes per extra connection. */
  bytes: number;
}

/** Per extra connection between two summaries: the `top` kinds that grew the most, and the total. */
export function perConnection(
  small: { connections: number; heap: HeapSummary },
  large: { connections: number; heap: HeapSummary },
  top = 15,
): { totalBytes: number; groups: PerConnectionGroup[] } {
  const extra = large.connections - small.connections;
  const before = new Map(small.heap.groups.map((g) => [g.name, g]));
  const groups = large.heap.groups
    .map((g) => ({
      name: g.name,
      count: Math.round(((g.count - (before.get(g.name)?.count ?? 0)) / extra) * 10) / 10,
      bytes: Math.round((g.selfBytes - (before.get(g.name)?.selfBytes ?? 0)) / extra),
    }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
  return { totalBytes: Math.round((large.heap.totalBytes - small.heap.totalBytes) / extra), groups };
}
