/**
 * The baseline loop the benchmarks compare against: `setInterval` at the nominal period, skipping a
 * tick while the previous cycle is still running (what a quick implementation does).
 */
import { summarize } from './stats.ts';

export async function naiveIntervalLoop(rateHz: number, seconds: number, cycle: () => Promise<void>) {
  const period = 1000 / rateHz;
  const starts: number[] = [];
  let busy = false;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(async () => {
      const now = performance.now();
      if (now - t0 >= seconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      if (busy) return;
      busy = true;
      starts.push(now);
      await cycle();
      busy = false;
    }, period);
  });
  await new Promise((r) => setTimeout(r, 20)); // let the last cycle finish
  const lateness = starts.map((s, k) => Math.abs(s - (t0 + (k + 1) * period)) * 1000);
  const periods = starts.slice(1).map((s, k) => Math.abs(s - starts[k]! - period) * 1000);
  return { hz: starts.length / seconds, lateness: summarize(lateness), jitter: summarize(periods) };
}
