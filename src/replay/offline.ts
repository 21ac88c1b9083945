/**
 * Offline evaluation: the policy's action for every recorded observation next to the recorded
 * action. Per-joint error (mean absolute, p95), one SVG per joint (recorded vs predicted over time)
 * and a summary: how people check a model before putting it on hardware.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnnxPolicy } from '../control/onnx-policy.ts';
import { loadDataset } from '../dataset/load.ts';

export interface JointError {
  readonly joint: string;
  readonly meanAbs: number;
  readonly p95Abs: number;
}

export interface OfflineReport {
  readonly file: string;
  readonly model: string;
  readonly samples: number;
  readonly episodes: number;
  readonly joints: JointError[];
  readonly plots: string[];
}

const p95 = (sorted: readonly number[]) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(0.95 * sorted.length) - 1))] ?? NaN;

function plotSvg(title: string, recorded: number[], predicted: number[]): string {
  const W = 640;
  const H = 240;
  const pad = 40;
  const all = [...recorded, ...predicted].filter(Number.isFinite);
  const lo = Math.min(...all);
  const hi = Math.max(...all, lo + 1e-6);
  const x = (i: number) => pad + (i / Math.max(1, recorded.length - 1)) * (W - 2 * pad);
  const y = (v: number) => H - pad - ((v - lo) / (hi - lo)) * (H - 2 * pad);
  const line = (v: number[], color: string) => `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${v.map((p, i) => `${x(i).toFixed(1)},${y(p).toFixed(1)}`).join(' ')}"/>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle">${title.replace(/[<>&]/g, '')}</text>`,
    `<text x="${pad}" y="${H - 10}">sample →</text><text x="4" y="${y(hi) + 4}">${hi.toFixed(3)}</text><text x="4" y="${y(lo) + 4}">${lo.toFixed(3)}</text>`,
    line(recorded, '#1f77b4'),
    line(predicted, '#d62728'),
    `<text x="${W - 200}" y="18" fill="#1f77b4">recorded</text><text x="${W - 120}" y="18" fill="#d62728">predicted</text>`,
    '</svg>',
    '',
  ].join('\n');
}

export async function replayAgainstPolicy(file: string, model: string, outDir: string): Promise<OfflineReport> {
  const ds = await loadDataset([file]);
  const policy = await OnnxPolicy.load(model, { jointNames: ds.layout.jointNames, observation: ds.layout.observation }, 0);
  try {
    const n = ds.layout.jointNames.length;
    const obsSize = policy.obsSize;
    const recorded: number[][] = ds.layout.jointNames.map(() => []);
    const predicted: number[][] = ds.layout.jointNames.map(() => []);
    for (const e of ds.episodes) {
      for (let t = 0; t < e.length; t++) {
        const a = await policy.infer(e.observations.subarray(t * obsSize, (t + 1) * obsSize));
        for (let j = 0; j < n; j++) {
          recorded[j]!.push(e.actions[t * n + j]!);
          predicted[j]!.push(a[j]!);
        }
      }
    }
    await mkdir(outDir, { recursive: true });
    const joints: JointError[] = [];
    const plots: string[] = [];
    for (let j = 0; j < n; j++) {
      const err = recorded[j]!.map((v, i) => Math.abs(v - predicted[j]![i]!)).sort((a, b) => a - b);
      const name = ds.layout.jointNames[j]!;
      joints.push({ joint: name, meanAbs: err.reduce((a, b) => a + b, 0) / Math.max(1, err.length), p95Abs: p95(err) });
      const path = join(outDir, `${name}.svg`);
      await writeFile(path, plotSvg(`${name}: recorded vs predicted action (${name === 'gripper' ? '0…1' : 'rad'})`, recorded[j]!, predicted[j]!));
      plots.push(path);
    }
    const report: OfflineReport = { file, model, samples: recorded[0]!.length, episodes: ds.episodes.length, joints, plots };
    await writeFile(join(outDir, 'summary.json'), JSON.stringify(report, null, 2));
    return report;
  } finally {
    await policy.close();
  }
}
