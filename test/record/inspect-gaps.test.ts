import { describe, expect, it } from 'vitest';
import { gapsIn } from '../../src/record/inspect.ts';

describe('inspect: gaps in a series of cycle times', () => {
  it('counts intervals over 1.5 periods and the cycles missing inside them', () => {
    // Period 2: intervals 2, 2, 3 (not a gap), 5 (a gap, 2 cycles missing), 6 (a gap, 2 missing).
    expect(gapsIn([0, 2, 4, 7, 12, 18], 2)).toEqual({ gaps: 2, dropped: 4, longest: 6 });
  });
  it('without a nominal period knows only the longest interval', () => {
    expect(gapsIn([0, 2, 9], undefined)).toEqual({ gaps: 0, dropped: 0, longest: 7 });
    expect(gapsIn([5], 2)).toEqual({ gaps: 0, dropped: 0, longest: 0 });
  });
});
