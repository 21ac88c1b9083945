/**
 * Training throughput: samples/s of one Adam step over an MLP 12→256→256→6 (MSE) for each way
 * armbridge can train it — the wasm SIMD trainer (wasm-mlp-trainer.ts) on 1 and 2 threads, the lean
 * tfjs step and tfjs's optimizer.minimize per tfjs backend present (cpu, wasm, tfjs-node when
 * installed) — next to the same MLP trained by PyTorch on one CPU thread as the peer baseline, and
 * PyTorch on two threads. PyTorch comes from the interop venv (`npm run interop:setup`: torch pinned
 * in interop/constraints.txt, from PyPI), else Debian's python3-torch when importable.
 *
 * The machine may be shared: every case runs `reps` times, interleaved (each rep runs all cases in
 * turn, PyTorch included), and the median is reported, with the load average before and after
 * (the tfjs cpu backend, at batch 256 only, runs once after the others). Samples per CPU-second
 * (process CPU time, all threads) are reported too: for one thread, the speed the other load on the
 * machine changes least; for two, their ratio to one thread is the parallel efficiency.
 *
 *   npx tsx bench/train-throughput.ts [--seconds 3] [--reps 3] [--batches 256,1024,4096]
 *   node --experimental-wasm-relaxed-simd --import tsx bench/train-throughput.ts   (Node 20: the FMA kernels)
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { loadTf, type BackendName } from '../src/learn/backend.ts';
import { mseLoss } from '../src/learn/losses.ts';
import { createLeanTrainer } from '../src/learn/lean-step.ts';
import { createMlp, dispose, forward, type MlpSnapshot } from '../src/learn/mlp.ts';
import { WasmMlpTrainer, wasmFmaSupported } from '../src/learn/wasm-mlp-trainer.ts';
import { formatRows, type BenchRow } from './stats.ts';

const SIZES = [12, 256, 256, 6];

interface Case {
  readonly key: string;
  /** One training step; returns nothing useful. */
  readonly step: () => void;
  readonly close: () => Promise<void> | void;
}

interface Rate {
  /** Samples per second of wall time. */
  readonly wall: number;
  /** Samples per second of this process's CPU time (all its threads): what the other load on a shared machine changes least. */
  readonly cpu: number;
}

/** Steps for `seconds` after `step` ran at least once. */
function rate(step: () => void, batch: number, seconds: number): Rate {
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    step();
    n++;
  }
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall: (n * batch) / wallS, cpu: (n * batch) / ((c.user + c.system) / 1e6) };
}

async function tfjsCase(backend: BackendName, batch: number, lean: boolean): Promise<Case | undefined> {
  let tf;
  try {
    ({ tf } = await loadTf(backend));
  } catch {
    return undefined;
  }
  const mlp = createMlp(tf, SIZES, 1, false);
  const opt = tf.train.adam(1e-3);
  // tf.add(…, 0): a tensor computed on the backend (randomNormal's result is slower to read on wasm).
  const x = tf.tidy(() => tf.add(tf.randomNormal([batch, 12]), 0)) as TF.Tensor2D;
  const y = tf.tidy(() => tf.add(tf.randomNormal([batch, 6]), 0)) as TF.Tensor2D;
  const w = tf.ones([batch]) as TF.Tensor1D;
  const leanStep = createLeanTrainer(tf, mlp, { learningRate: 1e-3, nll: false });
  const step = lean ? () => void leanStep.step(x, y, w) : () => void tf.tidy(() => opt.minimize(() => mseLoss(tf, forward(tf, mlp, x), y), true)!.dataSync());
  return {
    key: `tfjs ${backend} ${lean ? 'lean step' : 'optimizer.minimize'}`,
    step,
    close: () => {
      for (const t of [x, y, w]) t.dispose();
      leanStep.dispose();
      dispose(mlp);
      opt.dispose();
    },
  };
}

async function wasmCase(batch: number, threads: number): Promise<Case> {
  let s = 1;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  // Uniform with He's variance; no tfjs here, so the tfjs cases keep their backend.
  const layers = SIZES.slice(1).map((n, l) => ({ w: Float32Array.from({ length: SIZES[l]! * n }, () => r() * Math.sqrt(6 / SIZES[l]!)), b: new Float32Array(n) }));
  const init: MlpSnapshot = { sizes: SIZES, weights: layers.map((l) => l.w), biases: layers.map((l) => l.b), logStd: undefined };
  const trainer = await WasmMlpTrainer.create(init, { learningRate: 1e-3, gaussian: false, maxBatch: batch, threads });
  const x = Float32Array.from({ length: batch * 12 }, r);
  const y = Float32Array.from({ length: batch * 6 }, r);
  const w = new Float32Array(batch).fill(1);
  return { key: `wasm ${threads}`, step: () => void trainer.step(x, y, w, batch), close: () => trainer.close() };
}

/**
 * PyTorch as the peer. The PyPI wheel in the interop venv brings its own BLAS; Debian's python3-torch
 * calls the system BLAS: with only the reference BLAS it is ~10× slower (install
 * libopenblas0-pthread), which would flatter armbridge.
 */
const TORCH = `
import sys, time, torch
batch, seconds, threads = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
m = torch.nn.Sequential(torch.nn.Linear(12, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 6))
opt = torch.optim.Adam(m.parameters(), 1e-3)
x, y = torch.randn(batch, 12), torch.randn(batch, 6)
def step():
    opt.zero_grad(); loss = ((m(x) - y) ** 2).sum(1).mean(); loss.backward(); opt.step(); return loss.item()
for _ in range(3): step()
n, t0, c0 = 0, time.perf_counter(), time.process_time()
while time.perf_counter() - t0 < seconds:
    step(); n += 1
print(n * batch / (time.perf_counter() - t0), n * batch / (time.process_time() - c0))
`;

interface TorchPython {
  readonly python: string;
  readonly version: string;
  readonly source: string;
}

/** The interop venv's Python (same place as scripts/interop-setup.sh), else Debian's, if torch imports. */
function findTorch(): TorchPython | undefined {
  const venv = process.env.ARMBRIDGE_INTEROP_VENV ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'armbridge', 'interop-venv');
  for (const [python, source] of [
    [join(venv, 'bin', 'python'), 'interop venv'],
    ['/usr/bin/python3', 'Debian python3-torch'],
  ] as const) {
    if (!existsSync(python)) continue;
    try {
      const version = execFileSync(python, ['-c', 'import torch; print(torch.__version__)'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      return { python, version, source };
    } catch {
      // torch not importable there
    }
  }
  return undefined;
}

function torchRate(torch: TorchPython | undefined, batch: number, seconds: number, threads: number): Rate | undefined {
  if (!torch) return undefined;
  try {
    const [wall, cpu] = execFileSync(torch.python, ['-c', TORCH, String(batch), String(seconds), String(threads)], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split(' ').map(Number);
    return { wall: wall!, cpu: cpu! };
  } catch {
    return undefined;
  }
}

const median = (v: readonly number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function benchTraining(seconds: number, log: (s: string) => void, options: { readonly reps?: number; readonly batches?: readonly number[] } = {}): Promise<BenchRow[]> {
  const reps = options.reps ?? 3;
  const per = seconds / reps;
  const rows: BenchRow[] = [];
  const peer = findTorch();
  const torchName = (threads: number) => `PyTorch ${peer?.version ?? ''} CPU (${peer?.source ?? ''}), ${threads} thread${threads > 1 ? 's' : ''}`;
  if (!peer) log('  (no importable torch: npm run interop:setup, or apt-get install python3-torch libopenblas0-pthread)\n');
  const defaultThreads = Math.min(2, availableParallelism());
  for (const batch of options.batches ?? [256, 1024, 4096]) {
    const load0 = loadavg()[0]!;
    // One tfjs backend is active at a time: the interleaved cases use tfjs-node or wasm, not both.
    const cases: Case[] = [await wasmCase(batch, 1), await wasmCase(batch, 2)];
    const node = await tfjsCase('tensorflow', batch, false);
    if (node) cases.push(node);
    else {
      log('    (@tensorflow/tfjs-node not installed: skipped)\n');
      for (const lean of [true, false]) {
        const c = await tfjsCase('wasm', batch, lean);
        if (c) cases.push(c);
      }
    }
    const rates = new Map<string, number[]>();
    const cpuRates = new Map<string, number[]>();
    const push = (key: string, v: Rate | undefined) => {
      if (v === undefined || !Number.isFinite(v.wall)) return;
      rates.set(key, [...(rates.get(key) ?? []), v.wall]);
      cpuRates.set(key, [...(cpuRates.get(key) ?? []), v.cpu]);
    };
    try {
      for (const c of cases) for (let i = 0; i < 3; i++) c.step(); // warm-up (and wasm tier-up)
      for (let rep = 0; rep < reps; rep++) {
        log(`  batch ${batch}, run ${rep + 1}/${reps}: pytorch 1 and 2 threads, wasm 1 and 2 threads, tfjs…\n`);
        push('torch 1', torchRate(peer, batch, per, 1));
        push('torch 2', torchRate(peer, batch, per, 2));
        for (const c of cases) push(c.key, rate(c.step, batch, per));
      }
    } finally {
      for (const c of cases) await c.close();
    }
    // The pure-JS cpu backend once, after the others (minutes per step at larger batches).
    if (batch <= 256) {
      for (const lean of [true, false]) {
        const c = await tfjsCase('cpu', batch, lean);
        if (!c) continue;
        try {
          c.step();
          push(c.key, rate(c.step, batch, seconds));
          cases.push(c);
        } finally {
          await c.close();
        }
      }
    }
    const load1 = loadavg()[0]!;
    const m = (key: string) => (rates.has(key) ? median(rates.get(key)!) : undefined);
    const mc = (key: string) => (cpuRates.has(key) ? median(cpuRates.get(key)!) : undefined);
    const torch1 = m('torch 1');
    const torch2 = m('torch 2');
    const tfLean = m('tfjs wasm lean step');
    const caseName = `MLP 12-256-256-6, batch ${batch}`;
    const loadNote = `load ${load0.toFixed(1)}→${load1.toFixed(1)} on ${availableParallelism()} cores; median of ${reps}`;
    const vsTorch = (v: number) => (torch1 !== undefined ? { baseline: { name: torchName(1), value: torch1 }, ratio: v / torch1 } : {});
    const x = (a: number | undefined, b: number | undefined, what: string) => (a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}× ${what}` : undefined);
    const note = (...parts: (string | undefined)[]) => [...parts, loadNote].filter(Boolean).join('; ');
    if (torch1 !== undefined && torch2 !== undefined) {
      rows.push({ section: 'train', case: caseName, metric: `${torchName(2)} samples/s`, value: torch2, unit: '/s', baseline: { name: torchName(1), value: torch1 }, ratio: torch2 / torch1, note: note() });
    }
    const w1 = m('wasm 1');
    const w2 = m('wasm 2');
    for (const [threads, v] of [[2, w2], [1, w1]] as const) {
      if (v === undefined) continue;
      rows.push({
        section: 'train',
        case: caseName,
        metric: `armbridge wasm SIMD trainer${wasmFmaSupported() ? ' (FMA)' : ''}, ${threads} thread${threads > 1 ? 's' : ''}${threads === defaultThreads ? ' (default)' : ''} samples/s`,
        value: v,
        unit: '/s',
        ...vsTorch(v),
        note: note(threads === 2 ? x(v, torch2, 'PyTorch 2 threads') : undefined, threads === 2 ? x(v, w1, 'wasm 1 thread') : undefined, x(v, tfLean, 'tfjs wasm lean step')),
      });
    }
    // Per CPU-second: one thread's speed as if the machine were free; for two threads, the work lost to running in parallel.
    const torchCpu = mc('torch 1');
    for (const [key, label] of [['wasm 1', 'armbridge wasm SIMD trainer, 1 thread'], ['tfjs wasm lean step', 'tfjs wasm lean step']] as const) {
      const v = mc(key);
      if (v === undefined || torchCpu === undefined) continue;
      rows.push({ section: 'train', case: caseName, metric: `${label} samples per CPU-second`, value: v, unit: '/CPU-s', baseline: { name: `${torchName(1)}, per CPU-second`, value: torchCpu }, ratio: v / torchCpu, note: note() });
    }
    const cpu1 = mc('wasm 1');
    const cpu2 = mc('wasm 2');
    if (cpu1 !== undefined && cpu2 !== undefined) {
      rows.push({
        section: 'train',
        case: caseName,
        metric: 'armbridge wasm SIMD trainer, 2 threads, samples per CPU-second',
        value: cpu2,
        unit: '/CPU-s',
        baseline: { name: 'the same, 1 thread', value: cpu1 },
        ratio: cpu2 / cpu1,
        note: note(`estimate for a free second core: 2 threads at about ${((2 * cpu2) / 1000).toFixed(0)} k samples/s (2 × this)`, torch1 !== undefined ? `${((2 * cpu2) / (torchCpu ?? torch1)).toFixed(2)}× PyTorch 1 thread per CPU-second` : undefined),
      });
    }
    for (const c of cases) {
      if (!c.key.startsWith('tfjs')) continue;
      const v = m(c.key);
      if (v === undefined) continue;
      const own = c.key.endsWith('lean step') ? m(c.key.replace('lean step', 'optimizer.minimize')) : undefined;
      rows.push({
        section: 'train',
        case: caseName,
        metric: `${c.key} samples/s`,
        value: v,
        unit: '/s',
        ...(torch1 !== undefined ? vsTorch(v) : own !== undefined ? { baseline: { name: c.key.replace('lean step', 'optimizer.minimize'), value: own }, ratio: v / own } : {}),
        note: torch1 === undefined ? note('no importable torch: no PyTorch baseline (npm run interop:setup)') : note(x(v, torch2, 'PyTorch 2 threads'), x(v, own, 'optimizer.minimize')),
      });
    }
  }
  return rows;
}

if (process.argv[1]?.endsWith('train-throughput.ts')) {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const rows = await benchTraining(Number(arg('seconds') ?? 3), (s) => process.stderr.write(s), {
    reps: arg('reps') ? Number(arg('reps')) : undefined,
    batches: arg('batches')?.split(',').map(Number),
  });
  process.stdout.write(formatRows(rows));
}
