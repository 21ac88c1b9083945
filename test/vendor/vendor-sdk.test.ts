/**
 * The simulator answers unmodified vendor SDK code over a real pty as a real bus would.
 *
 * Part of the interop suite (npm run test:interop, vitest.interop.config.ts). The SDKs come from
 * PyPI, pinned in interop/requirements.txt and installed by `npm run interop:setup` into the
 * interop venv: `scservo_sdk` of feetech-servo-sdk and `dynamixel_sdk` of dynamixel-sdk, both
 * unmodified, with the venv's pyserial. Nothing is skipped: without the venv (or socat) the suites
 * fail and say what is missing.
 *
 * Other copies of the SDKs can still be tried instead: ARMBRIDGE_VENDOR_SDK names a directory holding
 * `scservo_sdk/` and `dynamixel_sdk/protocol2_packet_handler.py` (the rest of that package is stood
 * in for by our own shim in test/vendor/dxl_shim; ARMBRIDGE_DXL_SDK_FILE may name the Dynamixel file
 * or its directory instead), run with /usr/bin/python3 + pyserial.
 *
 * Each suite serves a fresh simulated arm on a pty, runs a Python script (test/vendor/*_check.py)
 * that drives the vendor SDK against it and prints one JSON object, and checks every point here,
 * cross-checking against the simulated servos' own memory.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimArm, type SimArm } from '../../src/sim/presets.ts';
import { PtySimServer } from '../../src/sim/pty-server.ts';
import { hasSocat } from '../helpers/socat.ts';
import { pinnedVersions, venvPython } from '../interop/python.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const IDS = [1, 2, 3, 4, 5, 6] as const;
const TEST_TIMEOUT_MS = 30_000;
/** SDK calls retried because a reply missed the SDK's ~34 ms window (pty latency on a loaded
 * machine). A few are expected; many would mean the simulator drops or delays replies. */
const MAX_RETRIES = 8;

const vendorRoot = process.env.ARMBRIDGE_VENDOR_SDK;
const explicitDxl = process.env.ARMBRIDGE_DXL_SDK_FILE;
/** Which SDK copies run: another copy when the variables say so, else the PyPI packages in the venv. */
const source = vendorRoot || explicitDxl ? 'vendor-dir' : 'pypi';
const pins = pinnedVersions();
const sdkName = (pkg: 'feetech-servo-sdk' | 'dynamixel-sdk') => (source === 'pypi' ? `${pkg} ${pins[pkg]} from PyPI` : `the copy under ARMBRIDGE_VENDOR_SDK`);

interface Runner {
  python: string;
  env: NodeJS.ProcessEnv;
}
function runner(kind: 'feetech' | 'dynamixel'): Runner {
  if (!hasSocat) throw new Error('socat is not installed (apt-get install socat)');
  if (source === 'pypi') return { python: venvPython(), env: {} };
  const python = '/usr/bin/python3';
  if (!existsSync(python)) throw new Error(`${python} is missing`);
  if (kind === 'feetech') {
    if (!vendorRoot || !existsSync(join(vendorRoot, 'scservo_sdk', '__init__.py'))) throw new Error(`no scservo_sdk/__init__.py under ARMBRIDGE_VENDOR_SDK=${vendorRoot ?? ''}`);
    return { python, env: { PYTHONPATH: vendorRoot } };
  }
  const dxlFile = explicitDxl ? (explicitDxl.endsWith('.py') ? explicitDxl : join(explicitDxl, 'protocol2_packet_handler.py')) : join(vendorRoot!, 'dynamixel_sdk', 'protocol2_packet_handler.py');
  if (!existsSync(dxlFile)) throw new Error(`vendor file ${dxlFile} is missing`);
  return { python, env: { PYTHONPATH: join(HERE, 'dxl_shim'), ARMBRIDGE_DXL_SDK_FILE: dxlFile } };
}

// ---------------------------------------------------------------------------------------------
// Serving a fresh arm, running a script

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function serve(kind: 'so101' | 'koch'): Promise<{ arm: SimArm; link: string }> {
  const arm = createSimArm({ arm: kind, role: 'follower' });
  const link = join(tmpdir(), `armbridge-vendor-${kind}-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const server = await PtySimServer.start({ bus: arm.bus, link });
  cleanups.push(async () => {
    await server.close();
    arm.bus.close();
  });
  return { arm, link };
}

/** +50 counts per joint, except a joint resting at its upper hard stop (the Koch gripper rests
 * closed at the end of its travel), which moves −50 so that the goal is reachable. */
function deltasFor(arm: SimArm): number[] {
  return IDS.map((id) => {
    const s = arm.bus.servo(id);
    return s.positionCounts + 50 <= s.travel.max ? 50 : -50;
  });
}

async function runScript(script: string, link: string, deltas: readonly number[], { python, env }: Runner): Promise<Report> {
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
    execFile(
      python,
      [join(HERE, script), link, '--deltas', deltas.join(',')],
      // No __pycache__ in the repository or in the vendor directory.
      { env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1' }, timeout: TEST_TIMEOUT_MS - 5_000, maxBuffer: 1 << 20 },
      (error, out, err) => resolve({ stdout: out, stderr: err, code: error ? ((error as { code?: number }).code ?? -1) : 0 }),
    );
  });
  const detail = `exit ${code}\nstdout: ${stdout}\nstderr: ${stderr}`;
  let report: Report;
  try {
    report = JSON.parse(stdout) as Report;
  } catch {
    throw new Error(`${script} printed no JSON (${detail})`);
  }
  if (report.exception) throw new Error(`${script} raised ${report.exception}\n${report.traceback ?? ''}`);
  expect(code, detail).toBe(0);
  if (report.retries.length > 0) console.info(`${script}: calls retried after a missed reply window:`, JSON.stringify(report.retries));
  expect(report.retries.length, `retried calls: ${JSON.stringify(report.retries)}`).toBeLessThanOrEqual(MAX_RETRIES);
  return report;
}

// ---------------------------------------------------------------------------------------------
// What the scripts print

interface CommResult {
  comm: number;
  error: number;
}
interface Report {
  exception?: string;
  traceback?: string;
  comm_success: number;
  open: boolean;
  set_baud: boolean;
  retries: [string, number][];
  ping: Record<string, CommResult & { model: number }>;
  read_present: Record<string, CommResult & { value: number }>;
  torque_enable: Record<string, CommResult>;
  sync_write: { comm: number; goals: Record<string, number> };
  settle: { reached: boolean; ms: number; polls: number; failed_polls: number; final: Record<string, number>; tolerance: number };
  read_only_write: CommResult & { id: number; address: number; value_written: number; before: number; after: number };
}
interface FeetechReport extends Report {
  sync_read: { comm: number; available: Record<string, boolean>; values: Record<string, number> };
  sync_write: Report['sync_write'] & { add_param_ok: boolean };
  torque_disable: Record<string, CommResult>;
  configure: (CommResult & { id: number; name: string; address: number; value: number; readback: number; readback_comm: number; readback_error: number })[];
}
interface DynamixelReport extends Report {
  sync_read: { comm: number; values: Record<string, number>; errors: Record<string, number>; rx_comm: Record<string, number> };
  broadcast_ping: { comm: number; found: Record<string, { model: number; firmware: number }> };
  eeprom_write_torque_on: CommResult & { id: number; address: number; value_written: number; torque_enable: number; torque_read_comm: number; before: number; after: number };
}

const ok = { comm: 0, error: 0 };

function expectCommonMotion(r: Report, start: Record<number, number>, deltas: readonly number[], wrap: boolean): Record<number, number> {
  const goals: Record<number, number> = {};
  IDS.forEach((id, i) => {
    goals[id] = wrap ? (start[id]! + deltas[i]! + 4096) % 4096 : start[id]! + deltas[i]!;
  });
  for (const id of IDS) expect(r.torque_enable[id], `Torque_Enable write, id ${id}`).toEqual(ok);
  expect(r.sync_write.comm).toBe(r.comm_success);
  for (const id of IDS) expect(r.sync_write.goals[id], `goal id ${id}`).toBe(goals[id]);
  expect(r.settle.reached, `not all joints within ±${r.settle.tolerance} of their goals after ${r.settle.ms} ms: ${JSON.stringify(r.settle.final)}`).toBe(true);
  for (const id of IDS) expect(Math.abs(r.settle.final[id]! - goals[id]!)).toBeLessThanOrEqual(3);
  return goals;
}

// ---------------------------------------------------------------------------------------------

describe(`Feetech scservo_sdk (${sdkName('feetech-servo-sdk')}, unmodified) against the simulated SO-101 follower on a pty`, () => {
  let run: Runner;
  beforeAll(() => {
    run = runner('feetech');
  });
  it(
    'pings (model 777), reads, sync-reads, sync-writes, ignores a read-only write with ERROR 0, accepts LeRobot configure writes',
    async () => {
      const { arm, link } = await serve('so101');
      const start: Record<number, number> = {};
      for (const id of IDS) start[id] = arm.bus.servo(id).get('Present_Position');
      const deltas = deltasFor(arm);

      const r = (await runScript('feetech_sdk_check.py', link, deltas, run)) as FeetechReport;

      expect(r.open && r.set_baud).toBe(true);
      expect(r.comm_success).toBe(0);
      // Ping (the SDK pings, then reads Model_Number at address 3).
      for (const id of IDS) expect(r.ping[id], `ping id ${id}`).toEqual({ model: 777, ...ok });
      // Individual reads and one sync read of Present_Position see exactly what the servos hold.
      for (const id of IDS) expect(r.read_present[id], `read id ${id}`).toEqual({ value: start[id], ...ok });
      expect(r.sync_read.comm).toBe(0);
      for (const id of IDS) {
        expect(r.sync_read.available[id], `sync read id ${id} available`).toBe(true);
        expect(r.sync_read.values[id], `sync read id ${id}`).toBe(start[id]);
      }
      // Torque on, sync write of Goal_Position, every joint gets there.
      expect(r.sync_write.add_param_ok).toBe(true);
      const goals = expectCommonMotion(r, start, deltas, true);
      for (const id of IDS) expect(arm.bus.servo(id).get('Goal_Position'), `sim Goal_Position id ${id}`).toBe(goals[id]);

      // Read-only address: Feetech documents no error code for this (PROTOCOLS.md B3). Our simulator
      // acknowledges with ERROR 0 and ignores the write; this asserts exactly that.
      const ro = r.read_only_write;
      expect({ comm: ro.comm, error: ro.error }).toEqual(ok);
      expect(Math.abs(ro.after - ro.before), `Present_Position moved after a write of ${ro.value_written} to address 56`).toBeLessThanOrEqual(3);

      // LeRobot's configure writes, with torque off first: status ERROR 0, values stick.
      for (const id of IDS) expect(r.torque_disable[id], `Torque_Enable = 0, id ${id}`).toEqual(ok);
      expect(r.configure).toHaveLength(IDS.length * 4);
      for (const w of r.configure) {
        const what = `${w.name} (${w.address}) = ${w.value}, id ${w.id}`;
        expect({ comm: w.comm, error: w.error }, what).toEqual(ok);
        expect({ comm: w.readback_comm, error: w.readback_error, value: w.readback }, `read back ${what}`).toEqual({ ...ok, value: w.value });
      }
      for (const id of IDS) {
        const s = arm.bus.servo(id);
        expect([s.get('Lock'), s.get('Return_Delay_Time'), s.get('Maximum_Acceleration'), s.get('Acceleration'), s.get('Torque_Enable')]).toEqual([0, 0, 254, 254, 0]);
      }
    },
    TEST_TIMEOUT_MS,
  );
});

describe(
  `ROBOTIS dynamixel_sdk Protocol2PacketHandler (${sdkName('dynamixel-sdk')}, unmodified) against the simulated Koch follower on a pty`,
  () => {
    let run: Runner;
    beforeAll(() => {
      run = runner('dynamixel');
    });
    it(
      'pings (1060/1200), reads, sync-reads, sync-writes, broadcast-pings; read-only and torque-locked EEPROM writes get Access Error 7',
      async () => {
        const { arm, link } = await serve('koch');
        const start: Record<number, number> = {};
        for (const id of IDS) start[id] = arm.bus.servo(id).get('Present_Position');
        const deltas = deltasFor(arm);
        const models: Record<number, number> = { 1: 1060, 2: 1060, 3: 1200, 4: 1200, 5: 1200, 6: 1200 };

        const r = (await runScript('dynamixel_sdk_check.py', link, deltas, run)) as DynamixelReport;

        expect(r.open && r.set_baud).toBe(true);
        expect(r.comm_success).toBe(0);
        for (const id of IDS) expect(r.ping[id], `ping id ${id}`).toEqual({ model: models[id], ...ok });
        for (const id of IDS) expect(r.read_present[id], `read id ${id}`).toEqual({ value: start[id], ...ok });
        // Sync read (syncReadTx + readRx per id): one status per id, in list order.
        expect(r.sync_read.comm).toBe(0);
        for (const id of IDS) {
          expect(r.sync_read.errors[id], `sync read id ${id} error`).toBe(0);
          expect(r.sync_read.values[id], `sync read id ${id}`).toBe(start[id]);
        }
        const goals = expectCommonMotion(r, start, deltas, false);
        for (const id of IDS) expect(arm.bus.servo(id).get('Goal_Position'), `sim Goal_Position id ${id}`).toBe(goals[id]);

        // Broadcast ping: all six answer, one after another, with model and firmware.
        expect(r.broadcast_ping.comm).toBe(0);
        expect(Object.keys(r.broadcast_ping.found).map(Number)).toEqual([...IDS]);
        for (const id of IDS) {
          expect(r.broadcast_ping.found[id], `broadcast ping id ${id}`).toEqual({ model: models[id], firmware: arm.bus.servo(id).get('Firmware_Version') });
        }

        // Write to read-only Present_Position (132): status error 7 (Access Error), nothing changes.
        const ro = r.read_only_write;
        expect({ comm: ro.comm, error: ro.error }).toEqual({ comm: 0, error: 7 });
        expect(Math.abs(ro.after - ro.before)).toBeLessThanOrEqual(3);

        // Write to EEPROM (Homing_Offset, 20) while torque is on: error 7, value unchanged.
        const ee = r.eeprom_write_torque_on;
        expect({ torque: ee.torque_enable, comm: ee.torque_read_comm }).toEqual({ torque: 1, comm: 0 });
        expect({ comm: ee.comm, error: ee.error }).toEqual({ comm: 0, error: 7 });
        expect([ee.before, ee.after]).toEqual([0, 0]);
        expect(arm.bus.servo(1).get('Homing_Offset')).toBe(0);
      },
      TEST_TIMEOUT_MS,
    );
  },
);
