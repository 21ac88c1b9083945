import { describe, expect, it } from 'vitest';
import { RateLoop } from '../../src/arm/rate-loop.ts';
import { cycleStartsOf, droppedCyclesOf } from '../../bench/recording.ts';
import { parseRecordPairs, parseRecordRates } from '../../bench/record-args.ts';
import { gapsIn } from '../../src/record/inspect.ts';

/** Drives a real RateLoop on a manual clock: cycle k wakes `wakeLate[k]` ms after its deadline and then works `work[k]` ms. */
async function runLoop(rateHz: number, wakeLate: readonly number[], work: readonly number[]) {
  let t = 1000;
  let k = 0;
  const loop = new RateLoop(rateHz, () => t, async (deadline) => {
    t = Math.max(t, deadline) + (wakeLate[k] ?? 0);
  });
  const starts: number[] = [];
  for (k = 0; k < work.length; k++) {
    await loop.next();
    starts.push(t);
    t += work[k]!;
  }
  return { starts: starts.map((s) => (s - starts[0]!) * 1000), lateness: loop.stats.latenessUs.toArray() };
}

describe('record bench: cycle starts rebuilt from lateness', () => {
  it('match the loop’s own cycle starts, overruns and re-anchored schedules included', async () => {
    // 1 kHz: on time, a 0.3 ms late wake, a 2.5 ms overrun (the schedule starts again from the wake), a 0.8 ms late wake.
    const work = [0.5, 0.5, 0.5, 3.4, 0.5, 0.5, 0.5, 0.5];
    const late = [0, 0, 0.3, 0, 0, 0.8, 0, 0];
    const { starts, lateness } = await runLoop(1000, late, work);
    const rebuilt = cycleStartsOf(lateness, 1000);
    expect(rebuilt).toHaveLength(starts.length);
    rebuilt.forEach((s, i) => expect(s).toBeCloseTo(starts[i]!, 6));
  });

  it('count dropped cycles the way inspect counts a file’s gaps (more than 1.5 periods)', async () => {
    // 500 Hz: one cycle works 5 ms (two periods lost), one wakes 1.2 ms late (a 3.2 ms gap: one lost).
    const work = [0.5, 0.5, 5, 0.5, 0.5, 0.5, 0.5];
    const late = [0, 0, 0, 0, 0, 1.2, 0];
    const { starts, lateness } = await runLoop(500, late, work);
    const fromStarts = gapsIn(starts, 2000).dropped;
    expect(fromStarts).toBe(3);
    expect(droppedCyclesOf(lateness, 2000)).toBe(fromStarts);
  });
});

describe('record bench options', () => {
  it('take whole pairs ≥ 1 and positive rates, and refuse anything else with the option named', () => {
    expect(parseRecordPairs(undefined)).toBe(3);
    expect(parseRecordPairs('5')).toBe(5);
    for (const bad of ['0', '-1', '2.5', 'abc']) expect(() => parseRecordPairs(bad)).toThrow(/--record-pairs/);
    expect(parseRecordRates(undefined)).toEqual([200, 500, 1000]);
    expect(parseRecordRates('1000')).toEqual([1000]);
    for (const bad of ['0', '500,abc', '', '-200']) expect(() => parseRecordRates(bad)).toThrow(/--record-rates/);
  });
});
