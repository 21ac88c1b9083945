/**
 * A simulated arm reachable as a serial port: over a real pty (socat) when available, else through
 * the in-process binding. Either way the caller gets a path and a binding to open it with.
 */
import type { BindingInterface } from '@serialport/bindings-interface';
import { tmpdir } from 'node:os';
import { isMainThread, threadId } from 'node:worker_threads';
import { TtyBinding } from '../bus/tty-binding.ts';
import { join } from 'node:path';
import { createSimArm, type SimArm, type SimArmKind, type SimArmRole } from '../sim/presets.ts';
import { PtySimServer, SocatMissingError } from '../sim/pty-server.ts';
import { SimBinding } from '../sim/sim-binding.ts';

export interface SimPort {
  readonly arm: SimArm;
  readonly path: string;
  /** undefined: open `path` with the OS binding (it is a real pty). */
  readonly binding: BindingInterface | undefined;
  readonly transport: 'pty' | 'in-process';
  close(): Promise<void>;
}

export async function openSimPort(kind: SimArmKind, role: SimArmRole, prefer: 'pty' | 'in-process' = 'pty'): Promise<SimPort> {
  return serveSimArm(createSimArm({ arm: kind, role }), prefer);
}

/** Makes an existing simulated arm reachable as a port; `close()` also closes the arm's bus. */
export async function serveSimArm(arm: SimArm, prefer: 'pty' | 'in-process' = 'pty'): Promise<SimPort> {
  const { kind, role } = arm;
  if (prefer === 'pty') {
    const link = join(tmpdir(), `armbridge-${kind}-${role}-${process.pid}${isMainThread ? '' : `-t${threadId}`}`);
    try {
      // In a worker thread (e.g. beside the deploy loop) the OS binding cannot be used: the tty binding can.
      const server = await PtySimServer.start({ bus: arm.bus, link, binding: isMainThread ? undefined : new TtyBinding() });
      return {
        arm,
        path: link,
        binding: undefined,
        transport: 'pty',
        close: async () => {
          await server.close();
          arm.bus.close();
        },
      };
    } catch (e) {
      if (!(e instanceof SocatMissingError)) throw e;
    }
  }
  const binding = new SimBinding();
  const path = `/sim/${kind}-${role}`;
  binding.register(path, arm.bus);
  return { arm, path, binding, transport: 'in-process', close: async () => arm.bus.close() };
}
