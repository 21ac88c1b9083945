/**
 * A person at a bench with a simulated leader/follower pair (`armbridge sim --pair`): they watch a
 * CLI command in a terminal (a real pty, `script` from util-linux: record needs a TTY for its keys),
 * and act on what it prints. For `armbridge record`, when its progress shows an episode starting
 * they move the leader (`start` to the pair server), when its reset period starts they let go and
 * put the scene back (`reset`), and when it asks for the episode's label they type `s` or `f`, as
 * the world judged what the follower did (`judge`). For `armbridge eval --follower`, when the
 * policy's episode starts the world starts scoring (`start`), and when it ends they judge, type the
 * label and put the scene back (`reset`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PairEvent } from '../../src/workflows/sim-pair.ts';

export const ARMBRIDGE_BIN = fileURLToPath(new URL('../../bin/armbridge.js', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) return;
  child.kill('SIGKILL');
  await exited;
}

/** `armbridge sim --pair …` as a child process, driven over its stdin control channel. */
export class PairServerProcess {
  readonly child: ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  stderr = '';
  #buffer = '';
  #waiters: ((e: Record<string, unknown>) => void)[] = [];
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(child: ChildProcess) {
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => {
      this.#buffer += d.toString();
      let nl: number;
      while ((nl = this.#buffer.indexOf('\n')) >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        const e = JSON.parse(line) as Record<string, unknown>;
        this.events.push(e);
        this.#waiters.shift()?.(e);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  /** Starts the server and waits for its ready line (its ports exist then). */
  static async start(args: readonly string[], timeoutMs = 30_000): Promise<PairServerProcess> {
    const child = spawn(process.execPath, [ARMBRIDGE_BIN, 'sim', '--pair', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const server = new PairServerProcess(child);
    try {
      const ready = await server.#next(timeoutMs);
      if (ready.event !== 'ready') throw new Error(`sim --pair said ${JSON.stringify(ready)} first`);
      return server;
    } catch (e) {
      await server.close();
      throw new Error(`sim --pair did not start: ${(e as Error).message}\n${server.stderr}`, { cause: e });
    }
  }

  #next(timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer from sim --pair in ${timeoutMs} ms`)), timeoutMs);
      const onExit = () => reject(new Error(`sim --pair exited (${this.child.exitCode ?? this.child.signalCode})`));
      this.child.once('exit', onExit);
      this.#waiters.push((e) => {
        clearTimeout(t);
        this.child.off('exit', onExit);
        resolve(e);
      });
    });
  }

  /** Sends one command and resolves with its acknowledgement; commands are answered in order. */
  send(command: 'start' | 'reset' | 'judge' | 'quit'): Promise<PairEvent> {
    const p = this.#chain.then(() => {
      const answer = this.#next(10_000);
      this.child.stdin!.write(`${command}\n`);
      return answer as Promise<unknown> as Promise<PairEvent>;
    });
    this.#chain = p.catch(() => undefined);
    return p;
  }

  /** `quit`, then SIGINT, then SIGKILL: the server is gone (and its ptys with it) when this resolves. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.stdin!.writable) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.stdin!.write('quit\n');
      await Promise.race([exited, sleep(5000)]);
    }
    await stopChild(this.child, 'SIGINT', 5000);
  }
}

export interface PersonLabel {
  /** 0-based, as in the recording. */
  readonly episode: number;
  readonly key: 's' | 'f';
  readonly judged: Extract<PairEvent, { event: 'judged' }>;
}

export interface PersonRun {
  readonly code: number | null;
  /** Everything the command printed to its terminal. */
  readonly output: string;
  readonly started: Extract<PairEvent, { event: 'started' }>[];
  readonly labels: PersonLabel[];
}

/**
 * Runs `armbridge ARGS` (e.g. record against the pair's ports) in a real pty and plays the person.
 * Resolves when the command exits; it is killed (SIGTERM to `script`, which hangs up the pty) at
 * `timeoutMs`.
 */
export async function playPersonAt(pair: PairServerProcess, args: readonly string[], timeoutMs: number, cwd?: string): Promise<PersonRun> {
  const command = [process.execPath, ARMBRIDGE_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // script: -q quiet, -f flush at once, -e the command's exit code, -c the command; no typescript file.
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], cwd });
  let output = '';
  let pending = '';
  const started: PersonRun['started'] = [];
  const labels: PersonLabel[] = [];
  let lastStarted = 0; // 1-based episode numbers, as record prints them
  let lastReset = 0;
  let acting: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const act = (f: () => Promise<void>) => {
    acting = acting.then(f).catch((e: unknown) => {
      failure ??= e as Error;
    });
  };
  const resetIfNeeded = async (k: number) => {
    if (lastReset >= k) return;
    lastReset = k;
    await pair.send('reset');
  };
  const onLine = (line: string) => {
    const progress = /episode (\d+)\/\d+ \(\d+ kept\) (episode|reset) /.exec(line);
    if (progress) {
      const k = Number(progress[1]);
      if (progress[2] === 'episode' && k > lastStarted) {
        lastStarted = k;
        act(async () => {
          const e = await pair.send('start');
          if (e.event !== 'started') throw new Error(`start: ${JSON.stringify(e)}`);
          started.push(e);
        });
      } else if (progress[2] === 'reset') act(() => resetIfNeeded(k));
      return;
    }
    // eval --follower: the policy's episode starts (the world scores the follower from now), then it
    // ends and waits for the person's label: judge, type it, put the scene back.
    const runs = /^episode (\d+)\/\d+: the policy runs for/.exec(line);
    if (runs) {
      act(async () => {
        const e = await pair.send('start');
        if (e.event !== 'started') throw new Error(`start: ${JSON.stringify(e)}`);
        started.push(e);
      });
      return;
    }
    const held = /^episode (\d+)\/\d+ ended \(the arm holds\)/.exec(line);
    if (held) {
      const k = Number(held[1]);
      act(async () => {
        const judged = await pair.send('judge');
        if (judged.event !== 'judged') throw new Error(`judge for episode ${k - 1}: ${JSON.stringify(judged)}`);
        const key = judged.success ? 's' : 'f';
        child.stdin!.write(key);
        labels.push({ episode: k - 1, key, judged });
        await pair.send('reset');
      });
      return;
    }
    const ask = /^label episode (\d+)\/\d+\?/.exec(line);
    if (ask) {
      const k = Number(ask[1]);
      act(async () => {
        await resetIfNeeded(k); // the last episode has no reset period: the person stops anyway
        const judged = await pair.send('judge');
        if (judged.event !== 'judged' || judged.episode !== k - 1) throw new Error(`judge for episode ${k - 1}: ${JSON.stringify(judged)}`);
        const key = judged.success ? 's' : 'f';
        child.stdin!.write(key);
        labels.push({ episode: k - 1, key, judged });
      });
    }
  };
  child.stdout!.on('data', (d: Buffer) => {
    const s = d.toString();
    output += s;
    pending += s;
    const parts = pending.split(/[\r\n]/);
    pending = parts.pop()!;
    for (const p of parts) onLine(p.trim());
    // A progress line in a TTY ends with spaces and no newline: act on it without waiting for the next \r.
    if (/ samples dropped\s+$/.test(pending)) {
      onLine(pending.trim());
      pending = '';
    }
  });
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const timer = setTimeout(() => void stopChild(child, 'SIGTERM', 3000), timeoutMs);
  try {
    const code = await exited;
    await acting;
    if (failure) throw failure;
    return { code, output, started, labels };
  } finally {
    clearTimeout(timer);
    await stopChild(child, 'SIGTERM', 3000);
  }
}
