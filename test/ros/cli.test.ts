import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const o = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
  const e = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) });
  const code = await main(argv, { stdout: o as unknown as typeof process.stdout, stderr: e as unknown as typeof process.stderr });
  return { code, out, err };
}

describe.skipIf(!!process.env.ROS_DISTRO)('ROS commands without a sourced ROS 2', () => {
  for (const argv of [
    ['ros', 'bridge', '--follower', '/dev/ttyACM0'],
    ['ros', 'bridge', '--sim'],
    ['ros', 'record', '--out', '/tmp/never-written.mcap'],
    ['ros', 'deploy', '--model', 'policy.onnx'],
    ['replay', 'x.mcap', '--to', 'ros'],
  ]) {
    it(`armbridge ${argv.join(' ')} exits 1 with RosUnavailableError's message, touching nothing`, async () => {
      const r = await run(...argv);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/ROS 2 is not sourced: run `source \/opt\/ros\/<distro>\/setup.bash` \(and install rclnodejs: npm install rclnodejs\).*ROS_DISTRO is not set.*\[ROS_UNAVAILABLE\]/);
    });
  }
});

describe('ros command usage (no ROS needed)', () => {
  it('takes the mode as a word and checks what each mode needs before touching ROS', async () => {
    expect(await run('ros', 'record')).toMatchObject({ code: 2, err: 'give --out FILE.mcap\n' });
    expect(await run('ros', 'deploy')).toMatchObject({ code: 2, err: 'give --model policy.onnx\n' });
    expect(await run('ros', 'bridge')).toMatchObject({ code: 2, err: 'give --follower PORT (or --sim)\n' });
    expect(await run('ros', 'deploy', '--model', 'm.onnx', '--object', '0.2,0.1')).toMatchObject({ code: 2, err: expect.stringMatching(/--object wants three numbers x,y,z in metres, got "0.2,0.1"/) });
    expect(await run('ros', 'deploy', '--model', 'm.onnx', '--goal', '0.2,0.1,0', '--goal-topic', '/bin')).toMatchObject({ code: 2, err: expect.stringMatching(/give either --goal-topic or --goal, not both/) });
    expect((await run('ros', 'teleport')).code).toBe(2);
    const help = await run('ros', '--help');
    expect(help.out).toMatch(/Usage: armbridge ros <mode> \[options\]/);
  });
});
