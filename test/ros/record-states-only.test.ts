import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/dataset/load.ts';
import { inspectRecording } from '../../src/record/inspect.ts';
import { runRosBridge } from '../../src/ros/bridge.ts';
import { float64MultiArrayMessage, RECORD_SERVICES, TOPICS, TYPES } from '../../src/ros/mapping.ts';
import { parseRecordTopics, runRosRecord } from '../../src/ros/record-node.ts';
import { trainFromRecordings } from '../../src/workflows/train.ts';
import { openSimArm } from '../helpers/arms.ts';
import { MemoryGraph } from './memory-graph.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ros record of /joint_states alone is a demonstration', () => {
  it('records states without /action; train derives the labels from them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-ros-states-'));
    const out = join(dir, 'states.mcap');
    const { arm, close } = await openSimArm('so101', 'follower');
    const graph = new MemoryGraph();
    const stop = new AbortController();
    try {
      const bridge = runRosBridge({ graph, follower: arm, rateHz: 50, signal: stop.signal });
      // Only the arm's joint states: whoever moves it (here a controller we do not record) is unseen.
      const rec = runRosRecord({ graph, out, topics: parseRecordTopics('/joint_states'), rateHz: 50, signal: stop.signal });
      await sleep(200);
      for (let ep = 0; ep < 2; ep++) {
        expect((await graph.call(RECORD_SERVICES.episodeStart)).success).toBe(true);
        const goal = Array.from(arm.lower, (lo, i) => lo + (0.4 + 0.1 * ep) * (arm.upper[i]! - lo));
        graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(goal));
        await sleep(500);
        expect((await graph.call(RECORD_SERVICES.episodeStop)).success).toBe(true);
      }
      stop.abort();
      expect((await rec).episodes).toEqual({ kept: 2, discarded: 0 });
      await bridge;
    } finally {
      stop.abort();
      await close();
    }
    const report = await inspectRecording(out);
    expect(report.topics.map((t) => t.topic)).not.toContain('/action');
    const ds = await loadDataset([out], { observation: ['follower.position'] });
    expect(ds.labels).toMatchObject({ source: 'derived', derivedEpisodes: 2, horizonSteps: 2, horizonMs: 40 });
    const m = await trainFromRecordings({ data: [out], out: join(dir, 'model'), algo: 'bc', epochs: 2, hidden: [16], load: { observation: ['follower.position'] }, backend: 'cpu' });
    expect(m.metadata).toMatchObject({ actionLabels: 'derived', labelHorizonSteps: 2, observation: [{ name: 'follower.position', size: 6 }] });
    await rm(dir, { recursive: true, force: true });
  }, 30_000);
});
