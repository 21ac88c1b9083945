/**
 * Training throughput: samples/s of one Adam step over an MLP 12→256→256→6 (MSE), per tfjs backend
 * present (cpu, wasm, tfjs-node when installed) and batch size, next to the same MLP trained by
 * PyTorch on one CPU thread (Debian python3-torch, run when importable) as the peer baseline.
 */
import { execFileSync } from 'node:child_process';
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
 * PyTorch on one CPU thread as the peer. Debian's python3-torch calls the system BLAS: with only the
 * reference BLAS it is ~10× slower (install libopenblas0-pthread), which would flatter tfjs.
 */
const TORCH = `
import sys, time, torch
torch.set_num_threads(1)
torch.manual_seed(0)
batch, seconds = int(sys.argv[1]), float(sys.argv[2])
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

function torchRate(batch: number, seconds: number): number | undefined {
  try {
    return Number(execFileSync('/usr/bin/python3', ['-c', TORCH, String(batch), String(seconds)], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
  } catch {
    return undefined;
  }
}

export async function benchTraining(seconds: number, log: (s: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const batch of [256, 1024, 4096]) {
    log(`  batch ${batch}: pytorch…\n`);
    const torch = torchRate(batch, seconds);
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
      const baseline = torch !== undefined ? { name: 'PyTorch CPU, 1 thread', value: torch } : own !== undefined ? { name: `tfjs ${backend} optimizer.minimize`, value: own } : undefined;
      rows.push({
        section: 'train',
        case: `MLP 12-256-256-6, batch ${batch}`,
        metric: `tfjs ${backend} ${lean ? 'lean step' : 'optimizer.minimize'} samples/s`,
        value: rate,
        unit: '/s',
        baseline,
        ratio: baseline ? rate / baseline.value : undefined,
        note: torch === undefined ? 'python3-torch not importable: no PyTorch baseline (apt-get install python3-torch libopenblas0-pthread)' : own !== undefined ? `${(rate / own).toFixed(1)}× optimizer.minimize` : undefined,
      });
    }
  }
  return rows;
}
