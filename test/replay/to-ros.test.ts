import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CorruptRecordingError } from '../../src/record/errors.ts';
import { episodesOf } from '../../src/record/episodes.ts';
import { decodeMessage, readRecording } from '../../src/record/read.ts';
import { ReplayMissingTopicError } from '../../src/replay/errors.ts';
import { EpisodeNotFoundError } from '../../src/replay/to-arm.ts';
import { REPLAY_QOS, replayToRos } from '../../src/replay/to-ros.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { MemoryGraph } from '../ros/memory-graph.ts';

let dir = '';
let data = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'armbridge-replay-ros-'));
  data = join(dir, 'd.mcap');
  await rollout({ arm: 'so101', seed: 4, episodes: 2, episodeS: 1, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
});

describe('replay --to ros (through the graph port; in-memory graph)', () => {
  it('publishes every recorded message on its topic and type, in order, with the original timing scaled', async () => {
    const graph = new MemoryGraph();
    const rec = await readRecording(data);
    const speed = 4;
    const start = performance.now();
    const r = await replayToRos({ file: data, graph, speed });
    expect(r.published).toBe(rec.messages.length);
    expect(graph.sent).toHaveLength(rec.messages.length);
    expect(r.perTopic['/action']).toBe(40);
    expect(graph.types.get('/follower/joint_states')).toBe('sensor_msgs/msg/JointState');
    expect(graph.types.get('/target_pose')).toBe('geometry_msgs/msg/PoseStamped');
    expect(graph.qos.get('pub /action')).toEqual(REPLAY_QOS);
    // Content: the n-th /action published is the n-th recorded, decoded (stamps kept).
    const recorded = rec.messages.filter((m) => m.topic === '/action').map((m) => decodeMessage<{ position: Float64Array; header: { stamp: { sec: number; nanosec: number } } }>(rec, m));
    const sent = graph.messages('/action') as { position: Float64Array; header: { stamp: { sec: number; nanosec: number } } }[];
    sent.forEach((m, i) => {
      expect(Array.from(m.position)).toEqual(Array.from(recorded[i]!.position));
      expect(m.header.stamp).toEqual(recorded[i]!.header.stamp);
    });
    // Timing: no message before its scaled time offset; the whole span took at least span/speed.
    const sorted = [...rec.messages].sort((a, b) => (a.logTimeNs < b.logTimeNs ? -1 : 1));
    const first = sorted[0]!.logTimeNs;
    graph.sent.forEach((s, i) => {
      expect(s.topic).toBe(sorted[i]!.topic);
      expect(s.atMs - start).toBeGreaterThanOrEqual(Number(sorted[i]!.logTimeNs - first) / 1e6 / speed);
    });
    expect(r.recordedSeconds).toBeCloseTo(Number(sorted[sorted.length - 1]!.logTimeNs - first) / 1e9, 6);
    expect(r.seconds).toBeGreaterThanOrEqual(r.recordedSeconds / speed - 0.005);
  });

  it('plays one episode or chosen topics only', async () => {
    const rec = await readRecording(data);
    const ep = episodesOf(rec)[1]!;
    const graph = new MemoryGraph();
    const r = await replayToRos({ file: data, graph, speed: 10, episode: 1, topics: ['/action', '/follower/joint_states'] });
    expect(Object.keys(r.perTopic).sort()).toEqual(['/action', '/follower/joint_states']);
    expect(r.perTopic['/action']).toBe(20);
    const inEpisode = rec.messages.filter((m) => m.topic === '/action' && m.logTimeNs >= ep.startNs && m.logTimeNs <= ep.endNs!);
    expect(inEpisode).toHaveLength(20);
    await expect(replayToRos({ file: data, graph, episode: 5 })).rejects.toBeInstanceOf(EpisodeNotFoundError);
  });

  it('refuses a recording without the wanted topics, and a corrupt file, with the recorder\'s errors; plays what survives of a cut file', async () => {
    const graph = new MemoryGraph();
    const err = await replayToRos({ file: data, graph, topics: ['/camera/image'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplayMissingTopicError);
    expect((err as Error).message).toMatch(/no messages on \/camera\/image, which replay --to ros needs \(it has: .*\/action/);
    const junk = join(dir, 'junk.mcap');
    await writeFile(junk, 'this is not an MCAP file at all');
    await expect(replayToRos({ file: junk, graph })).rejects.toBeInstanceOf(CorruptRecordingError);
    const bytes = await readFile(data);
    const cut = join(dir, 'cut.mcap');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.byteLength * 0.6)));
    const r = await replayToRos({ file: cut, graph, speed: 20 });
    expect(r.published).toBeGreaterThan(0);
    expect(r.problems.join(' ')).toMatch(/no footer/);
  });
});
