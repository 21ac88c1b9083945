/**
 * Writes an MLP policy as an ONNX model (IR version 8, opset 17: what Debian's onnx 1.12 checks),
 * with the observation and action normalisation folded into the graph and the model metadata as
 * metadata_props. Graph: observation → Sub(mean) → Div(std) → [Gemm → Relu]… → Gemm → Mul(std) →
 * Add(mean) → action. Float32 throughout; the batch dimension is symbolic ("batch").
 */
import { writeFile, rename } from 'node:fs/promises';
import { ProtoWriter } from './protobuf.ts';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
const FLOAT = 1;

export interface DenseLayer {
  /** inputs × outputs, row-major. */
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly inputs: number;
  readonly outputs: number;
}

export interface ExportablePolicy {
  readonly layers: readonly DenseLayer[];
  readonly obsMean: Float32Array;
  readonly obsStd: Float32Array;
  readonly actMean: Float32Array;
  readonly actStd: Float32Array;
  /**
   * Relative actions: the network predicts the change from a block of the observation (the current
   * joint positions, `size` = action width, starting at `offset`), and the graph adds that block
   * back, so the model's output is always absolute target positions.
   */
  readonly actionBase?: { readonly offset: number };
  /** Stored as metadata_props (string values). */
  readonly metadata: Readonly<Record<string, string>>;
}

function tensor(name: string, dims: readonly number[], data: Float32Array): ProtoWriter {
  const t = new ProtoWriter();
  for (const d of dims) t.int(1, d); // dims
  t.int(2, FLOAT); // data_type
  t.string(8, name); // name
  t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)); // raw_data (little-endian)
  return t;
}

function node(op: string, inputs: readonly string[], outputs: readonly string[], name: string, attrs: ProtoWriter[] = []): ProtoWriter {
  const n = new ProtoWriter();
  for (const i of inputs) n.string(1, i);
  for (const o of outputs) n.string(2, o);
  n.string(3, name);
  n.string(4, op);
  for (const a of attrs) n.message(5, a);
  return n;
}

function intAttr(name: string, v: number): ProtoWriter {
  return new ProtoWriter().string(1, name).int(3, v).int(20, 2); // name, i, type INT
}

function valueInfo(name: string, width: number): ProtoWriter {
  const dimBatch = new ProtoWriter().string(2, 'batch'); // dim_param
  const dimWidth = new ProtoWriter().int(1, width); // dim_value
  const shape = new ProtoWriter().message(1, dimBatch).message(1, dimWidth);
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, name).message(2, type);
}

export function policyToOnnx(p: ExportablePolicy): Uint8Array {
  const g = new ProtoWriter();
  const inits: ProtoWriter[] = [];
  const nodes: ProtoWriter[] = [];
  const dObs = p.layers[0]!.inputs;
  if (p.actionBase && p.actionBase.offset + p.layers[p.layers.length - 1]!.outputs > dObs) throw new RangeError(`actionBase block at ${p.actionBase.offset} does not fit an observation of ${dObs}`);
  const dAct = p.layers[p.layers.length - 1]!.outputs;
  inits.push(tensor('obs_mean', [dObs], p.obsMean), tensor('obs_std', [dObs], p.obsStd));
  nodes.push(node('Sub', ['observation', 'obs_mean'], ['obs_centered'], 'normalize_sub'));
  nodes.push(node('Div', ['obs_centered', 'obs_std'], ['h0'], 'normalize_div'));
  p.layers.forEach((l, i) => {
    inits.push(tensor(`w${i}`, [l.inputs, l.outputs], l.weight), tensor(`b${i}`, [l.outputs], l.bias));
    const last = i === p.layers.length - 1;
    nodes.push(node('Gemm', [`h${i}`, `w${i}`, `b${i}`], [last ? 'act_normalized' : `z${i}`], `dense${i}`));
    if (!last) nodes.push(node('Relu', [`z${i}`], [`h${i + 1}`], `relu${i}`));
  });
  inits.push(tensor('act_std', [dAct], p.actStd), tensor('act_mean', [dAct], p.actMean));
  nodes.push(node('Mul', ['act_normalized', 'act_std'], ['act_scaled'], 'denormalize_mul'));
  if (p.actionBase) {
    // observation · S picks the base block (S is dObs × dAct with ones at (offset + j, j)): a float
    // MatMul, so the graph needs no int64 tensors and stays in what every runtime optimises.
    const sel = new Float32Array(dObs * dAct);
    for (let j = 0; j < dAct; j++) sel[(p.actionBase.offset + j) * dAct + j] = 1;
    inits.push(tensor('action_base_select', [dObs, dAct], sel));
    nodes.push(node('Add', ['act_scaled', 'act_mean'], ['act_delta'], 'denormalize_add'));
    nodes.push(node('MatMul', ['observation', 'action_base_select'], ['action_base'], 'action_base'));
    nodes.push(node('Add', ['act_delta', 'action_base'], ['action'], 'relative_add'));
  } else nodes.push(node('Add', ['act_scaled', 'act_mean'], ['action'], 'denormalize_add'));
  for (const n of nodes) g.message(1, n);
  g.string(2, 'armbridge_policy');
  for (const t of inits) g.message(5, t);
  g.message(11, valueInfo('observation', dObs));
  g.message(12, valueInfo('action', dAct));

  const m = new ProtoWriter();
  m.int(1, ONNX_IR_VERSION);
  m.string(2, 'armbridge');
  m.string(3, '0.1.0');
  m.message(7, g);
  m.message(8, new ProtoWriter().string(1, '').int(2, ONNX_OPSET)); // opset_import (default domain)
  for (const [k, v] of Object.entries(p.metadata)) m.message(14, new ProtoWriter().string(1, k).string(2, v));
  return m.finish();
}

export async function writeOnnx(path: string, p: ExportablePolicy): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, policyToOnnx(p));
  await rename(tmp, path);
}

/** Plain forward pass in JavaScript (reference for parity tests and for evaluation without tfjs). */
export function forwardReference(p: ExportablePolicy, obs: Float32Array): Float32Array {
  let h = Float32Array.from(obs, (v, i) => (v - p.obsMean[i]!) / p.obsStd[i]!);
  p.layers.forEach((l, k) => {
    const out = new Float32Array(l.outputs);
    for (let o = 0; o < l.outputs; o++) {
      let s = l.bias[o]!;
      for (let i = 0; i < l.inputs; i++) s += h[i]! * l.weight[i * l.outputs + o]!;
      out[o] = k < p.layers.length - 1 ? Math.max(0, s) : s;
    }
    h = out;
  });
  const base = p.actionBase?.offset;
  return Float32Array.from(h, (v, i) => v * p.actStd[i]! + p.actMean[i]! + (base === undefined ? 0 : obs[base + i]!));
}
