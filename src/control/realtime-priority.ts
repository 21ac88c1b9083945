/**
 * Real-time scheduling for the calling thread, where the OS permits it (like ros2_control's
 * `thread_priority`): SCHED_FIFO at `priority` for this thread only (a worker thread's own Linux task
 * id, found through /proc/thread-self), via util-linux `chrt`. Needs root, CAP_SYS_NICE or an
 * `rtprio` limit (/etc/security/limits.conf); when refused, the loop runs at normal priority and the
 * caller says so. The kernel's RT throttling (sched_rt_runtime_us, 95 % by default) keeps a spinning
 * FIFO thread from locking the machine.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';

export interface RealtimeStatus {
  /** SCHED_FIFO was granted. */
  readonly granted: boolean;
  readonly priority: number;
  /** What happened, for the status line: "SCHED_FIFO 50 (thread 1234)" or why not. */
  readonly detail: string;
}

export function requestRealtimePriority(priority: number): RealtimeStatus {
  if (!(priority >= 1 && priority <= 99)) return { granted: false, priority: 0, detail: 'normal priority (real-time priority not requested)' };
  if (process.platform !== 'linux') return { granted: false, priority: 0, detail: `normal priority (real-time priority is only supported on Linux, not ${process.platform})` };
  let tid: string;
  try {
    tid = readlinkSync('/proc/thread-self').split('/').pop()!;
  } catch (e) {
    return { granted: false, priority: 0, detail: `normal priority (cannot find this thread's id: ${(e as Error).message})` };
  }
  try {
    execFileSync('chrt', ['-f', '-p', String(Math.round(priority)), tid], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 2000 });
    return { granted: true, priority, detail: `SCHED_FIFO ${priority} (thread ${tid})` };
  } catch (e) {
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message;
    return {
      granted: false,
      priority: 0,
      detail: `normal priority (SCHED_FIFO ${priority} refused: ${why.split('\n')[0]}; run as root, give node CAP_SYS_NICE, or set an rtprio limit)`,
    };
  }
}

/**
 * Back to normal scheduling for the calling thread (SCHED_OTHER). Used when a FIFO loop overruns
 * persistently: such a thread never sleeps, and the kernel's RT throttling then stops it for tens of
 * milliseconds at a time, which is worse than normal priority. Returns whether it worked.
 */
export function dropRealtimePriority(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const tid = readlinkSync('/proc/thread-self').split('/').pop()!;
    execFileSync('chrt', ['-o', '-p', '0', tid], { stdio: 'ignore', timeout: 2000 });
    return true;
  } catch {
    return false;
  }
}
