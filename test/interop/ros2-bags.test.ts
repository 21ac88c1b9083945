/**
 * armbridge recordings and deploy run logs are ROS 2 bags: rosbags opens each MCAP file with its own
 * rosbag2 MCAP storage reader, registers the message types from the definitions stored in the file
 * and deserializes every message with its CDR decoder; mcap-ros2-support decodes every message too.
 * Both must give exactly what armbridge itself reads from the file, message by message.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { decodeMessage, readRecording } from '../../src/record/read.ts';
import { identityPolicy } from '../helpers/models.ts';
import { INTEROP_DIR, pythonJson, venvPython } from './python.ts';

interface TopicDump {
  msgtype?: string;
  schema?: string;
  messages: unknown[];
  log_times?: number[];
}
interface FileDump {
  rosbags: { storage: { message_count: number; topics: Record<string, { msgtype: string; count: number; serialization: string }> }; topics: Record<string, TopicDump> };
  mcap_ros2: { topics: Record<string, TopicDump> };
}
interface Dump {
  versions: Record<string, string>;
  files: Record<string, FileDump>;
}

let dir: string;
let recording: string;
let runLog: string;
let dump: Dump;

async function cli(args: string[]): Promise<void> {
  let text = '';
  const sink = () => new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
  const code = await main(args, { stdout: sink() as unknown as typeof process.stdout, stderr: sink() as unknown as typeof process.stderr });
  if (code !== 0) throw new Error(`armbridge ${args.join(' ')} exited ${code}: ${text}`);
}

beforeAll(async () => {
  venvPython();
  dir = await mkdtemp(join(tmpdir(), 'armbridge-interop-ros2-'));
  recording = join(dir, 'recorded.mcap');
  runLog = join(dir, 'deploy-log.mcap');
  await cli(['record', '--sim', '--in-process', '--episodes', '2', '--episode-s', '1', '--reset-s', '0.2', '--rate', '50', '--mix', 'expert:1,poor:1', '--out', recording]);
  const model = await identityPolicy(dir, { withTarget: true, name: 'identity.onnx' });
  await cli(['deploy', '--sim', '--in-process', '--model', model, '--rate', '100', '--duration-s', '1', '--rt-priority', '0', '--log', runLog]);
  dump = await pythonJson<Dump>([join(INTEROP_DIR, 'ros2_bag_check.py'), recording, runLog]);
}, 180_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** armbridge's decoded message as plain JSON data (typed arrays → arrays, bigint → number). */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describe.each([
  ['a recording (armbridge record --sim)', () => recording, ['/follower/joint_states', '/leader/joint_states', '/action', '/episode', '/reward', '/target_pose']],
  ['a deploy run log (armbridge deploy --sim --log)', () => runLog, ['/follower/joint_states', '/policy/action', '/control/inference_us', '/action', '/reward']],
] as const)('%s read as a ROS 2 bag', (_what, file, mustHave) => {
  it('rosbags (rosbag2 MCAP reader + CDR) deserializes every message, equal to armbridge’s own reading', async () => {
    const rec = await readRecording(file());
    const d = dump.files[file()]!.rosbags;
    const topics = [...new Set(rec.messages.map((m) => m.topic))].sort();
    expect(topics).toEqual(expect.arrayContaining([...mustHave]));
    expect(Object.keys(d.topics).sort()).toEqual(topics);
    expect(d.storage.message_count).toBe(rec.messages.length);
    for (const topic of topics) {
      const ours = rec.messages.filter((m) => m.topic === topic);
      const channel = rec.channels.get(ours[0]!.channelId)!;
      expect(d.storage.topics[topic], topic).toEqual({ msgtype: channel.schemaName, count: ours.length, serialization: 'cdr' });
      expect(d.topics[topic]!.msgtype).toBe(channel.schemaName);
      expect(d.topics[topic]!.messages, `${topic}: every message`).toEqual(ours.map((m) => plain(decodeMessage(rec, m))));
      expect(d.topics[topic]!.log_times, `${topic}: log times`).toEqual(ours.map((m) => Number(m.logTimeNs)));
    }
  });

  it('mcap-ros2-support decodes every message the same', async () => {
    const rec = await readRecording(file());
    const d = dump.files[file()]!.mcap_ros2;
    for (const topic of [...new Set(rec.messages.map((m) => m.topic))]) {
      const ours = rec.messages.filter((m) => m.topic === topic);
      expect(d.topics[topic]!.schema).toBe(rec.channels.get(ours[0]!.channelId)!.schemaName);
      expect(d.topics[topic]!.messages, `${topic}: every message`).toEqual(ours.map((m) => plain(decodeMessage(rec, m))));
    }
  });
});
