/**
 * The demo's iterated RWR stage, kept small: starting from the demonstrations, one round of
 * roll out → score → add → retrain (as `armbridge improve`), each round evaluated on the same
 * held-out targets as the methods above. The full comparison is `npm run bench:learn`'s.
 */
import { join } from 'node:path';
import { improve, type ImproveRound } from './improve.ts';
import { table } from './table.ts';

export interface DemoImproveOptions {
  readonly runDir: string;
  readonly data: string;
  readonly seed: number;
  readonly evalSeed: number;
  readonly evalEpisodes: number;
  readonly fast?: boolean;
  readonly out: NodeJS.WritableStream;
}

export async function runImproveDemo(o: DemoImproveOptions): Promise<ImproveRound[]> {
  // One round keeps the demo short (round 0 retrains RWR on the demonstrations, round 1 adds the
  // rollouts): enough to show the loop; bench:learn measures several rounds.
  const iterations = 1;
  const rollouts = o.fast ? 20 : 50;
  o.out.write(`iterated RWR (exp, β = 0.5): ${iterations} round of ${rollouts} rollouts with exploration, each round retrained on everything so far (armbridge improve)…\n`);
  const rounds = await improve({
    arm: 'so101',
    data: [o.data],
    out: join(o.runDir, 'improve'),
    algo: 'rwr',
    rwr: { kind: 'exp', beta: 0.5 },
    iterations,
    rollouts,
    evalEpisodes: o.evalEpisodes,
    evalSeed: o.evalSeed,
    ...(o.fast ? { epochs: 25, fineTune: { epochs: 10 } } : {}),
    seed: o.seed,
    log: (l) => o.out.write(`  ${l}`),
  });
  o.out.write(
    table(
      ['round', 'train episodes', 'success', 'return', 'kept', 'model'],
      rounds.map((r) => [r.round, r.trainEpisodes, `${(r.eval.successRate * 100).toFixed(0)} %`, `${r.eval.meanReturn.toFixed(2)} ± ${r.eval.stdReturn.toFixed(2)}`, r.accepted ? 'yes' : `no (round ${r.kept.round}'s)`, r.model]),
    ),
  );
  return rounds;
}
