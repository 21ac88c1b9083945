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
  /**
   * Lets what the host has sent reach the simulated servos, on this thread's event loop: resolves
   * once nothing is in flight on the bus (over a pty: once bytes have arrived since the call and
   * nothing is in flight), or after `budgetMs`. A loop that blocks its thread between cycles (the
   * loop engine's worker) calls it before it blocks when the simulator runs on that thread: without
   * it the command written at the end of a cycle reached the servos only when the next cycle's read
   * let the event loop run — a period late.
   */
  settle(budgetMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Polls the event loop (setImmediate) until `done()` or `budgetMs` has passed. */
async function pollUntil(done: () => boolean, budgetMs: number): Promise<void> {
  const end = performance.now() + budgetMs;
  while (!done() && performance.now() < end) await new Promise((r) => setImmediate(r));
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
        settle: (budgetMs) => {
          const bytes = arm.bus.stats.bytesToServos;
          return pollUntil(() => arm.bus.stats.bytesToServos !== bytes && arm.bus.inFlight === 0, budgetMs);
        },
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
  // In process, a write enters the bus synchronously: what is left is its wire time (and any reply).
  return { arm, path, binding, transport: 'in-process', settle: (budgetMs) => pollUntil(() => arm.bus.inFlight === 0, budgetMs), close: async () => arm.bus.close() };
}
