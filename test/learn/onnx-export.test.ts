import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { forwardReference, writeOnnx, type ExportablePolicy } from '../../src/learn/onnx-export.ts';

function rnd(seed: number) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

function randomPolicy(sizes: number[], seed = 1): ExportablePolicy {
  const r = rnd(seed);
  const layers = sizes.slice(1).map((out, i) => ({
    inputs: sizes[i]!,
    outputs: out,
    weight: Float32Array.from({ length: sizes[i]! * out }, () => r() * 0.5),
    bias: Float32Array.from({ length: out }, () => r() * 0.1),
  }));
  const dObs = sizes[0]!;
  const dAct = sizes[sizes.length - 1]!;
  return {
    layers,
    obsMean: Float32Array.from({ length: dObs }, () => r()),
    obsStd: Float32Array.from({ length: dObs }, () => 0.5 + Math.abs(r())),
    actMean: Float32Array.from({ length: dAct }, () => r()),
    actStd: Float32Array.from({ length: dAct }, () => 0.2 + Math.abs(r())),
    metadata: { 'armbridge.format': 'armbridge.policy/1', joint_names: 'a,b,c' },
  };
}

const hasOnnxChecker = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('ONNX export', () => {
  it('runs in onnxruntime-node and matches the reference forward pass, for a batch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-onnx-'));
    const p = randomPolicy([9, 32, 32, 6]);
    const path = join(dir, 'p.onnx');
    await writeOnnx(path, p);
    const session = await ort.InferenceSession.create(path);
    try {
      expect(session.inputNames).toEqual(['observation']);
      expect(session.outputNames).toEqual(['action']);
      const r = rnd(7);
      const batch = 5;
      const obs = Float32Array.from({ length: batch * 9 }, () => r() * 2);
      const out = await session.run({ observation: new ort.Tensor('float32', obs, [batch, 9]) });
      const act = out.action!.data as Float32Array;
      expect(out.action!.dims).toEqual([batch, 6]);
      for (let b = 0; b < batch; b++) {
        const ref = forwardReference(p, obs.subarray(b * 9, b * 9 + 9));
        ref.forEach((v, i) => expect(act[b * 6 + i]).toBeCloseTo(v, 4));
      }
    } finally {
      await session.release();
    }
  });

  it('relative actions: the graph adds the observed joints back, matching the reference, and passes the checker', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-onnx-'));
    const p = { ...randomPolicy([9, 16, 6], 3), actionBase: { offset: 0 } };
    const path = join(dir, 'rel.onnx');
    await writeOnnx(path, p);
    const session = await ort.InferenceSession.create(path);
    try {
      const r = rnd(11);
      const obs = Float32Array.from({ length: 2 * 9 }, () => r() * 2);
      const act = (await session.run({ observation: new ort.Tensor('float32', obs, [2, 9]) })).action!.data as Float32Array;
      const absolute = { ...p, actionBase: undefined };
      for (let b = 0; b < 2; b++) {
        const o = obs.subarray(b * 9, b * 9 + 9);
        const ref = forwardReference(p, o);
        const abs = forwardReference(absolute, o);
        ref.forEach((v, i) => {
          expect(act[b * 6 + i]).toBeCloseTo(v, 4);
          expect(v - abs[i]!).toBeCloseTo(o[i]!, 5);
        });
      }
    } finally {
      await session.release();
    }
    if (hasOnnxChecker) execFileSync('/usr/bin/python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', path]);
    await expect(writeOnnx(join(dir, 'bad.onnx'), { ...p, actionBase: { offset: 5 } })).rejects.toThrow(/does not fit/);
  });

  it.skipIf(!hasOnnxChecker)('passes the ONNX checker (python3-onnx) and carries its metadata', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-onnx-'));
    const path = join(dir, 'p.onnx');
    await writeOnnx(path, randomPolicy([4, 8, 2]));
    const out = execFileSync('/usr/bin/python3', [
      '-c',
      'import onnx,sys,json; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(json.dumps({"ir": m.ir_version, "opset": m.opset_import[0].version, "meta": {p.key: p.value for p in m.metadata_props}}))',
      path,
    ]).toString();
    expect(JSON.parse(out)).toEqual({ ir: 8, opset: 17, meta: { 'armbridge.format': 'armbridge.policy/1', joint_names: 'a,b,c' } });
  });
});
