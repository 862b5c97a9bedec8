// A label whose values a tenant chooses (the token endpoint's host: whoever writes a connection picks
// it) must not grow the metrics without bound. The first `max` distinct values keep their own series;
// every later one is counted under `other`. First come rather than a running top-N: a series that
// changed its label midway would break rate() over it, and the hosts a cluster really uses are the ones
// its connections reach first.
export const OTHER_LABEL = 'other';

export interface BoundedLabel {
  (value: string): string;
  /** How many distinct values have their own series. */
  readonly size: number;
}

export function createBoundedLabel(max: number): BoundedLabel {
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`max must be a whole number >= 0, got ${max}`);
  const kept = new Set<string>();
  const label = (value: string): string => {
    if (kept.has(value)) return value;
    if (kept.size >= max || value === OTHER_LABEL) return OTHER_LABEL;
    kept.add(value);
    return value;
  };
  Object.defineProperty(label, 'size', { get: () => kept.size });
  return label as BoundedLabel;
}
