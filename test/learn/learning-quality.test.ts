/**
 * Does training produce a policy that does the task? A small seeded end-to-end check on the
 * simulated reach task: BC with the CLI's defaults on 40 expert demonstrations must beat a policy
 * that holds still by a wide margin on held-out targets. The setup before the normalisation fix
 * (unit-variance actions whose wrist, roll and gripper carry only tremor; absolute actions; early
 * stopping on validation loss) reached 10 % here, and this test fails for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { trainFromRecordings } from '../../src/workflows/train.ts';
import { identityPolicy } from '../helpers/models.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'armbridge-quality-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('learning quality on the simulated reach task', () => {
  it('BC with default settings on 40 expert demonstrations reaches held-out targets a still policy does not', { timeout: 240_000 }, async () => {
    const demos = join(dir, 'expert.mcap');
    await rollout({ arm: 'so101', seed: 1, episodes: 40, episodeS: 3, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: demos });
    const m = await trainFromRecordings({ data: [demos], out: join(dir, 'bc'), algo: 'bc', seed: 0 });
    expect(m.metadata.rateHz).toBe(20);
    expect(m.metadata.actionMode).toBe('relative');
    const evalAt = { arm: 'so101' as const, seed: 100_001, episodes: 30, episodeS: 3, rateHz: 20 };
    const bc = await rollout({ ...evalAt, driver: { kind: 'policy', model: m.modelPath } });
    const still = await rollout({ ...evalAt, driver: { kind: 'policy', model: await identityPolicy(dir, { withTarget: true }) } });
    expect(still.successRate).toBeLessThanOrEqual(0.1);
    expect(bc.successRate).toBeGreaterThanOrEqual(0.35);
    expect(bc.meanReturn).toBeGreaterThan(still.meanReturn + 2);
  });
});
