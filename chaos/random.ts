// The run's one source of randomness: seeded, so that `--seed=N` replays a run's choices (which
// connections, when each fault strikes). Timing on a shared machine still varies; the choices do not.
import { seededRandom } from '../bench/stats.ts';

export interface Random {
  readonly seed: number;
  /** [0, 1) */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** A seed for a sub-generator (e.g. the OAuth server's partial faults). */
  fork(): number;
}

export function createRandom(seed: number): Random {
  const next = seededRandom(seed);
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    fork: () => Math.floor(next() * 2 ** 31),
  };
}
