import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';

function capture() {
  let text = '';
  const stream = new Writable({ write: (chunk, _enc, cb) => ((text += String(chunk)), cb()) });
  return { stream, text: () => text };
}

async function run(...argv: string[]) {
  const out = capture();
  const err = capture();
  const code = await main(argv, { stdout: out.stream as unknown as typeof process.stdout, stderr: err.stream as unknown as typeof process.stderr });
  return { code, out: out.text(), err: err.text() };
}

describe('armbridge CLI', () => {
  it('lists commands with --help and prints a markdown reference derived from the option schemas', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/scan\s+Find the servos/);
    const md = await run('help', '--markdown');
    expect(md.out).toMatch(/### `armbridge scan`/);
    expect(md.out).toMatch(/\| `--window-ms` \| How long to collect broadcast-ping answers per rate, ms \| `100` \|/);
  });

  it('scans a simulated arm and prints its servos', async () => {
    const r = await run('scan', '--sim', 'koch', '--protocol', 'dynamixel', '--baud', '1000000', '--window-ms', '20');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/dynamixel\s+1000000\s+1\s+xl430-w250\s+1060/);
    expect(r.out).toMatch(/dynamixel\s+1000000\s+6\s+xl330-m288\s+1200/);
    // The settings armbridge writes on connect, as the (factory-fresh) servos hold them: the gripper's mode differs.
    expect(r.out).toMatch(/servo settings of the koch follower/);
    expect(r.out).toMatch(/gripper\s+Operating_Mode\s+5\s+3\s+differs/);
    expect(r.out).toMatch(/\d+ of \d+ as armbridge sets them; the \d+ others are written the next time armbridge opens the arm/);
  });

  it('exits 2 with a usage message for an unknown flag, a bad value or an unknown command', async () => {
    expect(await run('scan', '--bogus')).toMatchObject({ code: 2, err: expect.stringMatching(/Unknown option '--bogus'.*armbridge scan --help/) });
    expect(await run('scan', '--sim', 'ur5')).toMatchObject({ code: 2, err: expect.stringMatching(/--sim: .*so101.*koch/) });
    expect(await run('frobnicate')).toMatchObject({ code: 2, err: expect.stringMatching(/unknown command "frobnicate"/) });
  });

  it('exits 1 with the error message and code when a port cannot be opened', async () => {
    const r = await run('scan', '--port', '/dev/does-not-exist', '--protocol', 'feetech');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot open serial port \/dev\/does-not-exist.*\[PORT_OPEN_FAILED\]/);
  });
});

describe('README', () => {
  it("keeps the CLI reference (docs/cli.md) identical to the command definitions' generated reference", async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    const block = readme.split('<!-- cli-reference:start -->\n')[1]?.split('<!-- cli-reference:end -->')[0];
    const generated = (await run('help', '--markdown')).out;
    expect(block).toBe(generated);
  });

  it('shows the two quick-start commands', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('npm install && npm run demo');
    expect(readme).toContain('npm install && npm test');
  });
});

describe('recording commands', () => {
  it('records on the simulator, inspects and recovers by positional FILE, and refuses to overwrite', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/armbridge-cli-');
    const out = `${dir}/r.mcap`;
    const rec = await run('record', '--sim', '--in-process', '--episodes', '2', '--episode-s', '1', '--reset-s', '0.2', '--out', out);
    expect(rec.code).toBe(0);
    expect(rec.out).toMatch(/2 episodes kept, 0 discarded/);
    const again = await run('record', '--sim', '--in-process', '--episodes', '1', '--episode-s', '1', '--out', out);
    expect(again).toMatchObject({ code: 1, err: expect.stringMatching(/already exists: pass --overwrite .*\[RECORDING_EXISTS\]/) });
    const ins = await run('inspect', out);
    expect(ins.code).toBe(0);
    expect(ins.out).toMatch(/complete; arm so101, nominal rate 100 Hz/);
    expect(ins.out).toMatch(/\/follower\/joint_states\s+sensor_msgs\/msg\/JointState/);
    const recov = await run('recover', out, '--out', `${dir}/again.mcap`);
    expect(recov.code).toBe(0);
    expect(recov.out).toMatch(/the file was complete; rewritten/);
    expect((await run('inspect', out, 'extra')).code).toBe(2);
  }, 60_000);
});

describe('teleop command', () => {
  it('exits non-zero with a clear message when the leader cable is pulled mid-run', async () => {
    const r = await run('teleop', '--sim', '--duration-s', '5', '--rate', '100', '--unplug-leader-after-s', '0.5');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/safety stop: lost the arm state: .*the follower was held, then its torque was turned off \[SAFETY_STOP\]/);
  }, 60_000);
});
