/**
 * Training throughput: samples/s of one Adam step over an MLP 12→256→256→6 (MSE), per tfjs backend
 * present (cpu, wasm, tfjs-node when installed) and batch size, next to the same MLP trained by
 * PyTorch on one CPU thread as the peer baseline, and PyTorch on two threads. PyTorch comes from the
 * interop venv (`npm run interop:setup`: torch pinned in interop/constraints.txt, from PyPI), else
 * Debian's python3-torch when importable.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadTf, type BackendName } from '../src/learn/backend.ts';
import { mseLoss } from '../src/learn/losses.ts';
import { createLeanTrainer } from '../src/learn/lean-step.ts';
import { createMlp, dispose, forward } from '../src/learn/mlp.ts';
import type { BenchRow } from './stats.ts';

const SIZES = [12, 256, 256, 6];

async function tfjsRate(backend: BackendName, batch: number, seconds: number, lean: boolean): Promise<number | undefined> {
  let tf;
  try {
    ({ tf } = await loadTf(backend));
  } catch {
    return undefined;
  }
  const mlp = createMlp(tf, SIZES, 1, false);
  const opt = tf.train.adam(1e-3);
  const x = tf.randomNormal([batch, 12]) as import('@tensorflow/tfjs').Tensor2D;
  const y = tf.randomNormal([batch, 6]) as import('@tensorflow/tfjs').Tensor2D;
  const w = tf.ones([batch]) as import('@tensorflow/tfjs').Tensor1D;
  const leanStep = createLeanTrainer(tf, mlp, { learningRate: 1e-3, nll: false });
  const step = lean ? () => leanStep.step(x, y, w) : () => tf.tidy(() => opt.minimize(() => mseLoss(tf, forward(tf, mlp, x), y), true)!.dataSync());
  for (let i = 0; i < 3; i++) step();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    step();
    n++;
  }
  const rate = (n * batch) / ((performance.now() - t0) / 1000);
  x.dispose();
  y.dispose();
  w.dispose();
  leanStep.dispose();
  dispose(mlp);
  opt.dispose();
  return rate;
}

/**
 * PyTorch as the peer. The PyPI wheel in the interop venv brings its own BLAS; Debian's python3-torch
 * calls the system BLAS: with only the reference BLAS it is ~10× slower (install
 * libopenblas0-pthread), which would flatter tfjs.
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
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    step(); n += 1
print(n * batch / (time.perf_counter() - t0))
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

function torchRate(torch: TorchPython | undefined, batch: number, seconds: number, threads: number): number | undefined {
  if (!torch) return undefined;
  try {
    return Number(execFileSync(torch.python, ['-c', TORCH, String(batch), String(seconds), String(threads)], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
  } catch {
    return undefined;
  }
}

export async function benchTraining(seconds: number, log: (s: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const peer = findTorch();
  const torchName = (threads: number) => `PyTorch ${peer?.version ?? ''} CPU (${peer?.source ?? ''}), ${threads} thread${threads > 1 ? 's' : ''}`;
  if (!peer) log('  (no importable torch: npm run interop:setup, or apt-get install python3-torch libopenblas0-pthread)\n');
  for (const batch of [256, 1024, 4096]) {
    log(`  batch ${batch}: pytorch 1 thread…\n`);
    const torch = torchRate(peer, batch, seconds, 1);
    log(`  batch ${batch}: pytorch 2 threads…\n`);
    const torch2 = torchRate(peer, batch, seconds, 2);
    if (torch2 !== undefined && torch !== undefined) {
      rows.push({
        section: 'train',
        case: `MLP 12-256-256-6, batch ${batch}`,
        metric: `${torchName(2)} samples/s`,
        value: torch2,
        unit: '/s',
        baseline: { name: torchName(1), value: torch },
        ratio: torch2 / torch,
      });
    }
    const minimize = new Map<BackendName, number>();
    for (const [backend, lean] of [['tensorflow', false], ['wasm', false], ['wasm', true], ['cpu', false], ['cpu', true]] as [BackendName, boolean][]) {
      if (backend === 'cpu' && batch > 256) continue; // minutes per step at large batches
      log(`  batch ${batch}: tfjs ${backend}${lean ? ' lean' : ''}…\n`);
      const rate = await tfjsRate(backend, batch, seconds, lean);
      if (rate === undefined) {
        if (backend === 'tensorflow') log('    (@tensorflow/tfjs-node not installed: skipped)\n');
        continue;
      }
      if (!lean) minimize.set(backend, rate);
      // Baseline: PyTorch on one CPU thread when it can run here, else (for the lean step) tfjs's own
      // optimizer.minimize on the same backend, measured just before.
      const own = lean ? minimize.get(backend) : undefined;
      const baseline = torch !== undefined ? { name: torchName(1), value: torch } : own !== undefined ? { name: `tfjs ${backend} optimizer.minimize`, value: own } : undefined;
      rows.push({
        section: 'train',
        case: `MLP 12-256-256-6, batch ${batch}`,
        metric: `tfjs ${backend} ${lean ? 'lean step' : 'optimizer.minimize'} samples/s`,
        value: rate,
        unit: '/s',
        baseline,
        ratio: baseline ? rate / baseline.value : undefined,
        note:
          torch === undefined
            ? 'no importable torch: no PyTorch baseline (npm run interop:setup)'
            : [torch2 !== undefined ? `${(rate / torch2).toFixed(2)}× PyTorch 2 threads` : undefined, own !== undefined ? `${(rate / own).toFixed(1)}× optimizer.minimize` : undefined].filter(Boolean).join('; ') || undefined,
      });
    }
  }
  return rows;
}
