/**
 * Real-time scheduling for the calling thread, where the OS permits it (like ros2_control's
 * `thread_priority`): SCHED_FIFO at `priority` for this thread only (a worker thread's own Linux task
 * id, found through /proc/thread-self), via util-linux `chrt`. Needs root, CAP_SYS_NICE or an
 * `rtprio` limit (/etc/security/limits.conf); when refused, the loop runs at normal priority and the
 * caller says so. The kernel's RT throttling (sched_rt_runtime_us, 95 % by default) keeps a spinning
 * FIFO thread from locking the machine.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';

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

/** The calling thread's Linux task id (a worker thread's own, through /proc/thread-self); undefined elsewhere. */
export function threadTaskId(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return readlinkSync('/proc/thread-self').split('/').pop();
  } catch {
    return undefined;
  }
}

/** The nice value a loop thread that gave SCHED_FIFO up runs at: the highest normal priority. */
const FALLBACK_NICE = -20;

/**
 * Back to normal scheduling (SCHED_OTHER) for the thread `tid`, at nice −20 (FALLBACK_NICE).
 * Used when a FIFO loop overruns persistently or runs nearly all the time: such a thread never
 * sleeps, and the kernel's RT throttling then stops it for tens of milliseconds at a time, which is
 * worse than normal priority. At the highest normal priority the scheduler still shares the core,
 * but another thread waking up there seldom preempts the loop for a time slice. Measured with the
 * loop at 1 kHz on two cores, recording on the main thread (bench record, 3 pairs of 60 s): dropped
 * cycles 1.07 × and 1.06 × without recording in two runs, against 1.12 × in one run at nice 0;
 * within this VM's noise, not a proven gain.
 * Asynchronous, and meant to be called from another thread than the loop's: starting a process
 * (`chrt`) blocks the calling thread while the process forks, ~80 ms here (measured in the loop).
 * Resolves to what the thread now runs at ("normal priority, nice -20"), or undefined when it could
 * not leave FIFO.
 */
export function dropRealtimePriority(tid: string): Promise<string | undefined> {
  if (process.platform !== 'linux') return Promise.resolve(undefined);
  return new Promise((resolve) => {
    execFile('chrt', ['-o', '-p', '0', tid], { timeout: 2000 }, (error) => {
      if (error) return resolve(undefined);
      execFile('renice', ['-n', String(FALLBACK_NICE), '-p', tid], { timeout: 2000 }, (e) =>
        resolve(e ? `normal priority (nice ${FALLBACK_NICE} refused)` : `normal priority, nice ${FALLBACK_NICE}`),
      );
    });
  });
}

/**
 * The share of each period the kernel lets real-time threads run (sched_rt_runtime_us /
 * sched_rt_period_us; 0.95 by default): a FIFO thread that runs more than this is stopped for the
 * rest of the period (50 ms of every second by default). 1 when unlimited (-1) or not Linux.
 */
export function realtimeBudgetShare(): number {
  if (process.platform !== 'linux') return 1;
  try {
    const runtime = Number(readFileSync('/proc/sys/kernel/sched_rt_runtime_us', 'utf8'));
    const period = Number(readFileSync('/proc/sys/kernel/sched_rt_period_us', 'utf8'));
    if (!(runtime >= 0) || !(period > 0)) return 1;
    return Math.min(1, runtime / period);
  } catch {
    return 1;
  }
}

/** CPU time the calling thread has run, ms (/proc/thread-self/schedstat); NaN where unavailable. */
export function threadCpuMs(): number {
  if (process.platform !== 'linux') return NaN;
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
    return ns / 1e6;
  } catch {
    return NaN;
  }
}
