// Rollout restarts, spaced: one operator-wide queue hands each workload restart a slot at least
// `spacingMs` after the previous one, so that an OAuthClient whose secret rotates under a hundred
// connections does not restart a hundred Deployments in the same second. The reconciler makes the
// restarts that are due and asks to be woken for the next one (requeueAfter, never a timer). Pending
// restarts live in memory: they are owed for data already published, which a restarted operator cannot
// tell from data its workloads already run with, so it restarts nothing (never a restart storm at start).
import type { RolloutKind } from '../../api/v1alpha1/vault-connection.ts';

export interface Workload {
  readonly kind: RolloutKind;
  readonly name: string;
}

export interface PlannedRestart {
  readonly at: number;
  readonly workload: Workload;
  /** The value the workload's restarted-for annotation gets. */
  readonly restartedFor: string;
}

export class RestartQueue {
  readonly #spacingMs: number;
  #lastSlot = Number.NEGATIVE_INFINITY;
  readonly #pending = new Map<string, PlannedRestart[]>();

  constructor(spacingMs: number) {
    this.#spacingMs = spacingMs;
  }

  /**
   * Plans restarts of `workloads` for the connection `id`, in the next free slots. A plan still pending
   * for that connection is replaced — the newer data is what the workloads should restart for — and a
   * workload already waiting keeps its slot (data changing faster than the spacing must not push its
   * restart back for ever).
   */
  plan(id: string, workloads: readonly Workload[], restartedFor: string, now: number): void {
    const waiting = this.#pending.get(id) ?? [];
    const planned = workloads.map((workload) => {
      const slot = waiting.find(
        (p) => p.workload.kind === workload.kind && p.workload.name === workload.name,
      );
      if (slot !== undefined) return { at: slot.at, workload, restartedFor };
      const at = Math.max(now, this.#lastSlot + this.#spacingMs);
      this.#lastSlot = at;
      return { at, workload, restartedFor };
    });
    if (planned.length === 0) this.#pending.delete(id);
    else this.#pending.set(id, planned);
  }

  /** Removes and returns the connection's restarts due at `now`, and when the next one is due. */
  take(id: string, now: number): { due: PlannedRestart[]; nextInMs: number | undefined } {
    const planned = this.#pending.get(id) ?? [];
    const due = planned.filter((p) => p.at <= now);
    const later = planned.filter((p) => p.at > now);
    if (later.length === 0) this.#pending.delete(id);
    else this.#pending.set(id, later);
    const next = later[0];
    return { due, nextInMs: next === undefined ? undefined : next.at - now };
  }

  forget(id: string): void {
    this.#pending.delete(id);
  }

  get size(): number {
    return this.#pending.size;
  }
}
