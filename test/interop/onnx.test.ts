/**
 * Every kind of model armbridge exports (BC, Gaussian BC, RWR, AWR; `armbridge train`) passes the
 * current `onnx` package's full checker, and Python onnxruntime gives the same outputs as
 * onnxruntime-node (what `armbridge deploy` runs) on the same observations, within 1e-5.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { INTEROP_DIR, pinnedVersions, pythonJson, venvPython } from './python.ts';

const ALGOS = ['bc', 'bc-gaussian', 'rwr', 'awr'] as const;
type Algo = (typeof ALGOS)[number];
interface ModelReport {
  ir_version: number;
  opsets: Record<string, number>;
  checker: string;
  metadata: Record<string, string>;
  inputs: { name: string; shape: (number | string)[] }[];
  outputs: Record<string, number[][]>;
}
interface OnnxReport {
  versions: Record<string, string>;
  models: Record<Algo, ModelReport>;
}

let dir: string;
const models = {} as Record<Algo, string>;
const feeds = {} as Record<Algo, Record<string, number[][]>>;
let report: OnnxReport;

async function cli(args: string[]): Promise<void> {
  let text = '';
  const sink = () => new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
  const code = await main(args, { stdout: sink() as unknown as typeof process.stdout, stderr: sink() as unknown as typeof process.stderr });
  if (code !== 0) throw new Error(`armbridge ${args.join(' ')} exited ${code}: ${text}`);
}

/** Deterministic observations spread over a plausible range (radians, gripper 0…1, target in m). */
function observations(shape: readonly number[], rows: number): number[][] {
  const width = shape.at(-1)!;
  return Array.from({ length: rows }, (_, r) => Array.from({ length: width }, (_c, c) => Math.sin(1.7 * r + 0.9 * c + 0.3) * (c >= 6 ? 0.3 : 1.2)));
}

beforeAll(async () => {
  venvPython();
  dir = await mkdtemp(join(tmpdir(), 'armbridge-interop-onnx-'));
  const data = join(dir, 'demos.mcap');
  await rollout({ arm: 'so101', seed: 5, episodes: 6, episodeS: 1, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1, poor: 1 } }, out: data });
  for (const algo of ALGOS) {
    const out = join(dir, algo);
    await cli(['train', data, '--algo', algo, '--out', out, '--epochs', '3', '--hidden', '32,32', '--batch-size', '32', '--backend', 'cpu']);
    models[algo] = join(out, 'policy.onnx');
    const session = await ort.InferenceSession.create(models[algo]);
    try {
      const meta = session.inputMetadata as unknown as readonly { name: string; shape?: readonly (number | string)[] }[] | undefined;
      feeds[algo] = Object.fromEntries(
        session.inputNames.map((name, i) => {
          const declared: readonly (number | string)[] | undefined = Array.isArray(meta) ? meta[i]?.shape : undefined;
          const shape = declared?.map((d: number | string) => (typeof d === 'number' ? d : 1)) ?? [1, 9];
          return [name, observations(shape, 16)];
        }),
      );
    } finally {
      await session.release();
    }
  }
  const spec = join(dir, 'spec.json');
  await writeFile(spec, JSON.stringify({ models, inputs: feeds }));
  report = await pythonJson<OnnxReport>([join(INTEROP_DIR, 'onnx_check.py'), spec]);
}, 300_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`ONNX models from armbridge train, checked with onnx ${pinnedVersions().onnx} and onnxruntime ${pinnedVersions().onnxruntime}`, () => {
  it.each(ALGOS)('%s: the full checker accepts it and it carries armbridge’s metadata', (algo) => {
    const r = report.models[algo];
    expect(r.checker).toBe('ok');
    expect(r.metadata['armbridge.algo']).toMatch(new RegExp(`^${algo}`));
    expect(r.metadata['armbridge.policy_kind']).toBe(algo === 'bc-gaussian' ? 'mlp-gaussian' : 'mlp-deterministic');
    expect(r.inputs.length).toBeGreaterThan(0);
  });

  it.each(ALGOS)('%s: Python onnxruntime and onnxruntime-node give the same outputs (≤ 1e-5)', async (algo) => {
    const session = await ort.InferenceSession.create(models[algo]);
    try {
      const inputs: Record<string, ort.Tensor> = {};
      for (const [name, rows] of Object.entries(feeds[algo])) inputs[name] = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]);
      const ours = await session.run(inputs);
      const theirs = report.models[algo].outputs;
      expect(Object.keys(theirs).sort()).toEqual([...session.outputNames].sort());
      for (const name of session.outputNames) {
        const a = ours[name]!.data as Float32Array;
        const b = theirs[name]!.flat();
        expect(b).toHaveLength(a.length);
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        expect(worst, `${algo} output ${name}: largest difference`).toBeLessThanOrEqual(1e-5);
        // Not a trivially constant output.
        expect(new Set(Array.from(a, (x) => x.toFixed(4))).size).toBeGreaterThan(1);
      }
    } finally {
      await session.release();
    }
  });
});
