import { describe, expect, it } from 'vitest';
import { OTHER_LABEL, createBoundedLabel } from '../../../src/observability/bounded-label.ts';

describe('bounded label', () => {
  it('should keep the first max distinct values and count every later one as other', () => {
    const label = createBoundedLabel(2);
    expect(['a', 'b', 'a', 'c', 'b', 'd'].map(label)).toEqual(['a', 'b', 'a', OTHER_LABEL, 'b', OTHER_LABEL]);
    expect(label.size).toBe(2);
  });

  it('should never give a later value the series of an earlier one', () => {
    const label = createBoundedLabel(1);
    expect(label('x')).toBe('x');
    expect(label('y')).toBe(OTHER_LABEL);
    expect(label('x')).toBe('x');
  });

  it('should not let a value named other take a slot', () => {
    const label = createBoundedLabel(1);
    expect(label(OTHER_LABEL)).toBe(OTHER_LABEL);
    expect(label('a')).toBe('a');
  });

  it('should stay bounded under 100,000 hostile hosts', () => {
    const label = createBoundedLabel(50);
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(label(`h${i}.attacker.example`));
    expect(seen.size).toBe(51);
    expect(label.size).toBe(50);
  });

  it('should refuse a negative or fractional bound', () => {
    expect(() => createBoundedLabel(-1)).toThrow(RangeError);
    expect(() => createBoundedLabel(1.5)).toThrow(RangeError);
  });
});
