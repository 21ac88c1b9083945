import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MotorBus } from '../../src/bus/motor-bus.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { PtySimServer, SocatMissingError } from '../../src/sim/pty-server.ts';
import { hasSocat } from '../helpers/socat.ts';

const IDS = [1, 2, 3, 4, 5, 6];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function serve(kind: 'so101' | 'koch') {
  const arm = createSimArm({ arm: kind, role: 'follower' });
  const link = join(tmpdir(), `armbridge-test-${kind}-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const server = await PtySimServer.start({ bus: arm.bus, link });
  cleanups.push(async () => {
    await server.close();
    arm.bus.close();
  });
  return { arm, link, server };
}

// pty round trips are ~0.35 ms at p50 but several ms at p99 on a loaded machine: generous timeouts.
describe.skipIf(!hasSocat)('MotorBus over a real pty (socat)', () => {
  it.each(['so101', 'koch'] as const)('%s: pings, reads, writes, sync-reads and sync-writes 6 servos; torque on; goals reached', async (kind) => {
    const { link } = await serve(kind);
    const vendor = kind === 'so101' ? 'feetech' : 'dynamixel';
    const bus = await MotorBus.open({ path: link, vendor, baud: 1_000_000, timeoutMs: 500, models: kind === 'koch' ? { 1: 'xl430-w250', 2: 'xl430-w250' } : {} });
    cleanups.push(() => bus.close());
    for (const id of IDS) expect((await bus.ping(id)).modelNumber).toBe(kind === 'so101' ? 777 : id <= 2 ? 1060 : 1200);
    const start = await bus.syncRead('Present_Position', IDS);
    const goals = start.map((p, i) => (i === 5 ? p - 60 : p + 60));
    await bus.syncWrite('Goal_Position', IDS.map((id, i) => [id, goals[i]!] as const));
    for (const id of IDS) await bus.write(id, 'Torque_Enable', 1);
    expect(await bus.read(2, 'Torque_Enable')).toBe(1);
    const deadline = Date.now() + 5000;
    let now = await bus.syncRead('Present_Position', IDS);
    while (!now.every((p, i) => Math.abs(p - goals[i]!) <= 2) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      now = await bus.syncRead('Present_Position', IDS);
    }
    now.forEach((p, i) => expect(Math.abs(p - goals[i]!)).toBeLessThanOrEqual(2));
  });

  it('removes the link and ends socat when closed', async () => {
    const { link, server } = await serve('so101');
    expect(existsSync(link)).toBe(true);
    await server.close();
    expect(existsSync(link)).toBe(false);
  });

  it('a bus whose pty vanishes fails with PortClosedError, not a hang', async () => {
    const { link, server } = await serve('so101');
    const bus = await MotorBus.open({ path: link, vendor: 'feetech', baud: 1_000_000, timeoutMs: 300, retries: 0 });
    cleanups.push(() => bus.close());
    expect((await bus.ping(1)).id).toBe(1);
    await server.close();
    const err = await bus.ping(1).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toMatch(/PORT_DISCONNECTED|PORT_CLOSED|SERVO_TIMEOUT/);
  });
});

describe('pty server without socat', () => {
  it('says how to install socat', async () => {
    const arm = createSimArm({ arm: 'so101', role: 'follower' });
    const err = await PtySimServer.start({ bus: arm.bus, link: join(tmpdir(), `x-${process.pid}`), socat: '/nonexistent/socat' }).catch((e: unknown) => e);
    arm.bus.close();
    expect(err).toBeInstanceOf(SocatMissingError);
    expect((err as Error).message).toMatch(/apt-get install socat/);
  });
});

describe('pty server with a file in the way', () => {
  it('refuses to replace a regular file at the link path (PtyStartError) and leaves it alone', async () => {
    const { writeFile, readFile, mkdtemp } = await import('node:fs/promises');
    const { PtyStartError } = await import('../../src/sim/pty-server.ts');
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-pty-'));
    const path = join(dir, 'taken');
    await writeFile(path, 'keep');
    const arm = createSimArm({ arm: 'so101', role: 'follower' });
    const err = await PtySimServer.start({ bus: arm.bus, link: path }).catch((e: unknown) => e);
    arm.bus.close();
    expect(err).toBeInstanceOf(PtyStartError);
    expect((err as Error).message).toMatch(/a file that is not a symlink is in the way/);
    expect(await readFile(path, 'utf8')).toBe('keep');
  });
});
