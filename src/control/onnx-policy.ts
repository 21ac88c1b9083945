/**
 * A trained policy run by onnxruntime-node for the control loop: the model's metadata is checked
 * against the arm first (joint names and the observation layout the loop will feed), one intra-op
 * thread, a preallocated input tensor, and a few warm-up runs before the first real cycle.
 */
import * as ort from 'onnxruntime-node';
import type { PolicyMetadata } from '../dataset/policy-metadata.ts';
import type { Layout } from '../dataset/features.ts';
import { ModelLoadError, ModelMismatchError } from './errors.ts';
import { readPolicyMetadata } from './control-rate.ts';

export interface PolicyExpectation {
  readonly jointNames: readonly string[];
  /** Observation features the loop can provide, in order. */
  readonly observation: Layout['observation'];
}

export class OnnxPolicy {
  readonly path: string;
  readonly metadata: PolicyMetadata;
  readonly obsSize: number;
  readonly actSize: number;
  readonly #session: ort.InferenceSession;
  readonly #input: Float32Array;
  readonly #tensor: ort.Tensor;

  private constructor(path: string, metadata: PolicyMetadata, session: ort.InferenceSession) {
    this.path = path;
    this.metadata = metadata;
    this.#session = session;
    this.obsSize = metadata.observation.reduce((n, p) => n + p.size, 0);
    this.actSize = metadata.action.reduce((n, p) => n + p.size, 0);
    this.#input = new Float32Array(this.obsSize);
    this.#tensor = new ort.Tensor('float32', this.#input, [1, this.obsSize]);
  }

  static async load(path: string, expect: PolicyExpectation, warmup = 20): Promise<OnnxPolicy> {
    const meta = await readPolicyMetadata(path);
    checkFit(path, meta, expect);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    } catch (e) {
      throw new ModelLoadError(path, (e as Error).message, { cause: e });
    }
    const p = new OnnxPolicy(path, meta, session);
    for (let i = 0; i < warmup; i++) await p.infer(p.#input);
    return p;
  }

  /** One inference; returns the action (a fresh array from the runtime). */
  async infer(observation: ArrayLike<number>): Promise<Float32Array> {
    this.#input.set(observation);
    const out = await this.#session.run({ observation: this.#tensor });
    return out.action!.data as Float32Array;
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}

function checkFit(path: string, meta: PolicyMetadata, expect: PolicyExpectation): void {
  const want = expect.jointNames.join(',');
  const got = meta.jointNames.join(',');
  if (got !== want) throw new ModelMismatchError(path, `it was trained on joints [${got}], this arm has [${want}]`);
  const mo = JSON.stringify(meta.observation);
  const eo = JSON.stringify(expect.observation);
  if (mo !== eo) throw new ModelMismatchError(path, `it expects observation ${mo}, the loop provides ${eo}`);
  const act = meta.action.reduce((n, a) => n + a.size, 0);
  if (act !== expect.jointNames.length) throw new ModelMismatchError(path, `it outputs ${act} action values for ${expect.jointNames.length} joints`);
}
