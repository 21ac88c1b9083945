import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMessage, readRecording } from '../../src/record/read.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';

type Tree = string | { first: Tree; second: Tree; direction: 'row' | 'column'; splitPercentage?: number };
interface Layout {
  configById: Record<string, { paths?: { value: string }[]; topicPath?: string }>;
  layout: Tree;
}

const leaves = (t: Tree): string[] => (typeof t === 'string' ? [t] : [...leaves(t.first), ...leaves(t.second)]);

/** Resolves a Foxglove message path such as `/follower/joint_states.position[2]` on a recording's messages. */
function resolve(topics: Map<string, Record<string, unknown>>, path: string): unknown {
  const topic = [...topics.keys()].filter((t) => path === t || path.startsWith(`${t}.`)).sort((a, b) => b.length - a.length)[0];
  if (!topic) return undefined;
  let v: unknown = topics.get(topic);
  for (const part of path.slice(topic.length + 1).split('.').filter(Boolean)) {
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(part);
    if (!m) return undefined;
    v = (v as Record<string, unknown>)[m[1]!];
    if (m[2] !== undefined) v = (v as ArrayLike<unknown>)[Number(m[2])];
  }
  return v;
}

describe('Foxglove layout (launch/foxglove/armbridge-layout.json)', () => {
  it('plots only topics and fields that a recording has, and every panel is placed', async () => {
    const layout = JSON.parse(await readFile(new URL('../../launch/foxglove/armbridge-layout.json', import.meta.url), 'utf8')) as Layout;
    expect(leaves(layout.layout).sort()).toEqual(Object.keys(layout.configById).sort());
    const file = join(await mkdtemp(join(tmpdir(), 'armbridge-fox-')), 'r.mcap');
    await rollout({ arm: 'so101', seed: 1, episodes: 1, episodeS: 0.5, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: file });
    const rec = await readRecording(file);
    const last = new Map<string, Record<string, unknown>>();
    for (const m of rec.messages) last.set(m.topic, decodeMessage(rec, m));
    const paths = Object.values(layout.configById).flatMap((c) => [...(c.paths ?? []).map((p) => p.value), ...(c.topicPath ? [c.topicPath] : [])]);
    expect(paths.length).toBeGreaterThan(20);
    for (const p of paths) {
      const v = resolve(last, p);
      expect(v, p).toBeDefined();
      if (p !== '/episode') expect(['number', 'string', 'boolean'], p).toContain(typeof v);
    }
    for (const topic of ['/leader/joint_states', '/follower/joint_states', '/action', '/episode', '/reward']) expect(paths.some((p) => p.startsWith(topic))).toBe(true);
  });
});
