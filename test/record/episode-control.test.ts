import { describe, expect, it } from 'vitest';
import { EpisodeControl } from '../../src/record/episode-control.ts';

describe('EpisodeControl (the recording session beside the loop)', () => {
  it('runs episode, reset, episode on time; the task is sampled for recorded cycles only, after the start hook', () => {
    const calls: string[] = [];
    const ep = new EpisodeControl({ episodes: 2, episodeS: 0.05, resetS: 0.02 }, { start: (i) => (calls.push(`start ${i}`), { operator: 'x' }), reset: () => calls.push('reset') });
    const recorded: boolean[] = [];
    const events: string[] = [];
    for (let t = 0; t < 200 && !ep.stopped; t += 10) {
      recorded.push(ep.step(t, undefined, () => (calls.push(`task ${t}`), { reward: -1, success: t > 100 })));
      for (const e of ep.takeEvents()) events.push(`${e.event}${'episode' in e ? e.episode : ''}@${t}`);
    }
    expect(events).toEqual(['start0@0', 'end0@50', 'start1@70', 'end1@120']);
    // The cycle that starts an episode after a reset is not recorded (as in the in-thread session).
    expect(recorded).toEqual([true, true, true, true, true, true, false, false, true, true, true, true, true]);
    expect(calls.slice(0, 2)).toEqual(['start 0', 'task 0']);
    expect(calls).toContain('reset');
    expect(ep.stopped).toBe('done');
    expect(ep.kept).toBe(2);
    expect(ep.recordedCycles).toBe(11);
    expect(ep.takeEnded()).toEqual([
      { index: 0, success: false, rewardSum: -6 },
      { index: 1, success: true, rewardSum: -5 },
    ]);
  });

  it('next ends early, re-record discards (in the episode or once in the reset after it), stop ends the session; cut closes an open episode', () => {
    const ep = new EpisodeControl({ episodes: 5, episodeS: 10, resetS: 10 });
    const kinds = (t: number, key?: 'next' | 'rerecord' | 'stop') => (ep.step(t, key), ep.takeEvents().map((e) => `${e.event}${e.episode}`).join(','));
    expect(kinds(0)).toBe('start0');
    expect(kinds(10, 'rerecord')).toBe('discard0');
    expect(kinds(20, 'next')).toBe('start1');
    expect(kinds(30, 'next')).toBe('end1');
    expect(kinds(40, 'rerecord')).toBe('discard1');
    expect(kinds(50, 'rerecord')).toBe('');
    expect([ep.kept, ep.discarded]).toEqual([0, 2]);
    expect(kinds(60, 'next')).toBe('start2');
    ep.cut();
    expect(ep.takeEvents()).toEqual([{ event: 'end', episode: 2, success: undefined, reason: 'stop' }]);
    const b = new EpisodeControl({ episodes: 5, episodeS: 10, resetS: 10 });
    b.step(0, undefined);
    b.step(10, 'stop');
    expect(b.stopped).toBe('key');
    expect(b.takeEvents().map((e) => e.event)).toEqual(['start', 'end']);
  });
});
