// What every scenario gets from main: sizes and settings resolved from the flags, a work directory,
// and a progress log.

export interface BenchContext {
  /** The operator's --workers, and the floor's. */
  workers: number;
  /**
   * The operator's per-host token budget flags. Every bench connection asks the same host
   * (127.0.0.1), so the default budget (10 requests/s) would be what the bench measures.
   */
  budgetFlags: readonly string[];
  /** More operator flags for every run (--operator-flags), e.g. --log-level=debug. */
  extraFlags: readonly string[];
  /** Flags for node itself in every operator process (--node-flags), e.g. V8 heap limits. */
  nodeFlags: readonly string[];
  /** How many creates the bench sends at once when it applies objects. */
  applyConcurrency: number;
  /** Logs, CPU profiles, CA files. */
  dir: string;
  cpuProfile: boolean;
  /** The operator's entry point (--main): src/main.ts, or a compiled dist/main.js. */
  main?: string;
  /** Write V8 heap snapshots in the memory scenario and summarise them by constructor. */
  heapSnapshots?: boolean;
  /** Repetitions of each burst and floor run without latency (the ratio is the median's). */
  repeat?: number;
  log(line: string): void;
  /** Set by the first control plane started. */
  kubernetes?: string;
}

/** The per-host token budget lifted out of the way (rate and burst far above anything reached). */
export function liftedBudgetFlags(workers: number): string[] {
  return ['--token-host-rate=100000', '--token-host-burst=100000', `--token-host-concurrency=${workers}`];
}

/** A downsampled cumulative curve: [seconds since start, count]. */
export type Curve = [number, number][];

export function cumulativeCurve(start: number, times: Iterable<number>, points = 120): Curve {
  const sorted = [...times].sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const step = Math.max(1, Math.floor(sorted.length / points));
  const curve: Curve = [[0, 0]];
  for (let i = step - 1; i < sorted.length; i += step) {
    curve.push([Math.round(((sorted[i] ?? start) - start) / 10) / 100, i + 1]);
  }
  const last = sorted[sorted.length - 1] ?? start;
  if (curve[curve.length - 1]?.[1] !== sorted.length) {
    curve.push([Math.round((last - start) / 10) / 100, sorted.length]);
  }
  return curve;
}
