/**
 * The interop suite's access to the Python environment that `npm run interop:setup` builds
 * (scripts/interop-setup.sh): where it is, running a script in it, and serving `armbridge sim` on a
 * pty for Python to drive. The suite does not skip without the environment: it fails and says to
 * run the setup.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir, setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const INTEROP_DIR = join(REPO, 'test', 'interop');

export const VENV = process.env.ARMBRIDGE_INTEROP_VENV ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'armbridge', 'interop-venv');
export const PYTHON = join(VENV, 'bin', 'python');

/** The venv's python, or an error that says how to make it. */
export function venvPython(): string {
  if (!existsSync(PYTHON) || !existsSync(join(VENV, '.armbridge-interop-stamp'))) {
    throw new Error(`no interop environment at ${VENV}: run npm run interop:setup first`);
  }
  return PYTHON;
}

/** Versions pinned in interop/constraints.txt, by normalised name. */
export function pinnedVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(REPO, 'interop', 'constraints.txt'), 'utf8').split('\n')) {
    const m = /^([A-Za-z0-9_.-]+)==(\S+)/.exec(line.trim());
    if (m) out[m[1]!.toLowerCase().replace(/[_.]+/g, '-')] = m[2]!;
  }
  return out;
}

export interface PythonResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `python args…` from the venv (cwd: the repository; no __pycache__ written). */
export function runPython(
  args: readonly string[],
  options: { timeoutMs?: number; stdin?: string; env?: NodeJS.ProcessEnv; /** nice value, e.g. −10 for a client standing in for its own computer */ priority?: number } = {},
): Promise<PythonResult> {
  const python = venvPython();
  return new Promise((resolve) => {
    const child = execFile(
      python,
      [...args],
      {
        cwd: REPO,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', ...options.env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 << 20,
      },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
    if (options.priority !== undefined && child.pid) {
      try {
        setPriority(child.pid, options.priority);
      } catch {
        // not permitted: normal priority
      }
    }
    child.stdin?.end(options.stdin ?? '');
  });
}

/** Runs a Python snippet or script that prints one JSON object last on stdout; fails with its stderr otherwise. */
export async function pythonJson<T>(args: readonly string[], options: Parameters<typeof runPython>[1] = {}): Promise<T> {
  const r = await runPython(args, options);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0) throw new Error(`python ${args[0]} exited ${r.code}\nstdout: ${r.stdout.slice(-4000)}\nstderr: ${r.stderr.slice(-8000)}`);
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`python ${args[0]} printed no JSON\nstdout: ${r.stdout.slice(-4000)}\nstderr: ${r.stderr.slice(-8000)}`);
  }
}

export interface ServedSim {
  readonly link: string;
  /** SIGINT, wait for the exit; returns everything the command printed. */
  stop(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts `armbridge sim …` as its own process (the command a user runs) and waits for its pty. */
export async function serveSim(args: readonly string[], link: string): Promise<ServedSim> {
  const child: ChildProcess = spawn(process.execPath, [join(REPO, 'bin', 'armbridge.js'), 'sim', ...args, '--link', link], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The simulator stands in for servos, which do not share a CPU with anything: on this 2-core
  // machine it gets priority over the test runner and Python, so that its replies stay within the
  // vendor SDKs' reply windows (a few tens of ms) as a real bus's do. Best effort.
  try {
    if (child.pid) setPriority(child.pid, -10);
  } catch {
    // not permitted: run at normal priority
  }
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!stdout.includes('serving a simulated')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`armbridge sim did not start (exit ${child.exitCode})\nstdout: ${stdout}\nstderr: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopped: Promise<{ code: number | null; stdout: string; stderr: string }> | undefined;
  return {
    link,
    stop: () =>
      (stopped ??= (async () => {
        if (child.exitCode === null) child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const code = await exited;
        clearTimeout(timer);
        return { code, stdout, stderr };
      })()),
  };
}
