/**
 * A trained policy run by onnxruntime-node for the control loop: the model's metadata is checked
 * against the arm first (joint names and the observation layout the loop will feed), one intra-op
 * thread, sequential execution, a preallocated input tensor, and a few warm-up runs before the first
 * real cycle.
 *
 * Inference in the loop is as fast as alone only when (measured, scratch/infer-bench in the
 * loop-engine branch; docs/architecture.md):
 * - it runs synchronously: onnxruntime-node's `session.run` defers the native call to a
 *   `setImmediate`, so every inference waited one event-loop turn (whatever I/O callbacks and timers
 *   were due ran first: 19 → 14 µs p50, 249 → 78 µs p99 alone). The policy calls the native session
 *   of onnxruntime-node's binding directly (the same object its backend wraps), and falls back to
 *   the public API if that binding is not where 1.30 has it;
 * - its code and weights are in the core's caches. After the thread slept 1–3 ms the first run took
 *   ≈ 30–110 µs p50, a second one right after ≈ 15 µs; what matters most is the runtime's own code
 *   path (a tiny model run first recovered most of it), then the weights. Spinning does not warm
 *   anything, and neither does time: only running the model does. So `warm()` runs the model once on
 *   the last observation, twice per cycle: in the spin window just before each deadline
 *   (wake-tuning.ts), where the thread would only spin, and while the read's last reply is on the
 *   wire (MotorBus `beforeLastReply`), the latest point that still overlaps the wire. Measured in
 *   the deploy loop at 200 Hz (two 10 s runs each, in-process simulator): both warm-ups p50 22–29 µs,
 *   p99 55–94 µs; neither p50 98 µs, p99 155–237 µs.
 * - the thread does not allocate much between the warm-up and the inference: fresh memory written
 *   through the caches (the simulator's event-loop polling allocated ~250 KB a cycle, spin.ts) made
 *   the first inference after it 4× slower (13 → 55 µs p50 in isolation).
 * The output buffer is the runtime's (onnxruntime-node 1.30 ignores preallocated outputs).
 */
import { createRequire } from 'node:module';
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
  /** 'native-sync': the binding's session, called synchronously; 'session-api': ort.InferenceSession (one event-loop turn per run). */
  readonly runner: 'native-sync' | 'session-api';
  readonly #session: ort.InferenceSession | undefined;
  readonly #native: NativeSession | undefined;
  readonly #feeds: { observation: ort.Tensor };
  readonly #input: Float32Array;
  readonly #tensor: ort.Tensor;

  private constructor(path: string, metadata: PolicyMetadata, session: ort.InferenceSession | undefined, native: NativeSession | undefined) {
    this.path = path;
    this.metadata = metadata;
    this.#session = session;
    this.#native = native;
    this.runner = native ? 'native-sync' : 'session-api';
    this.obsSize = metadata.observation.reduce((n, p) => n + p.size, 0);
    this.actSize = metadata.action.reduce((n, p) => n + p.size, 0);
    this.#input = new Float32Array(this.obsSize);
    this.#tensor = new ort.Tensor('float32', this.#input, [1, this.obsSize]);
    this.#feeds = { observation: this.#tensor };
  }

  static async load(path: string, expect: PolicyExpectation, warmup = 20): Promise<OnnxPolicy> {
    const meta = await readPolicyMetadata(path);
    checkFit(path, meta, expect);
    const options = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' } as const;
    let session: ort.InferenceSession | undefined;
    let native: NativeSession | undefined;
    try {
      native = nativeSession(path, options);
      if (!native) session = await ort.InferenceSession.create(path, options);
    } catch (e) {
      throw new ModelLoadError(path, (e as Error).message, { cause: e });
    }
    const p = new OnnxPolicy(path, meta, session, native);
    for (let i = 0; i < warmup; i++) await p.infer(p.#input);
    return p;
  }

  /** One inference, synchronous where the binding allows it; returns the action (the runtime's array: copy what you keep). */
  async infer(observation: ArrayLike<number>): Promise<Float32Array> {
    this.#input.set(observation);
    if (this.#native) return this.#native.run(this.#feeds, NO_FETCHES, NO_OPTIONS).action!.data as Float32Array;
    const out = await this.#session!.run(this.#feeds);
    return out.action!.data as Float32Array;
  }

  /**
   * One inference without leaving the caller's turn (no promise, no microtask queued before it):
   * what the loop calls when `runner` is 'native-sync'; undefined otherwise (use `infer`).
   */
  inferSync(observation: ArrayLike<number>): Float32Array | undefined {
    if (!this.#native) return undefined;
    this.#input.set(observation);
    return this.#native.run(this.#feeds, NO_FETCHES, NO_OPTIONS).action!.data as Float32Array;
  }

  /** Runs the model once on the last observation and drops the result: brings its code and weights into this core's caches. */
  warm(): void {
    this.#native?.run(this.#feeds, NO_FETCHES, NO_OPTIONS);
  }

  async close(): Promise<void> {
    this.#native?.dispose();
    await this.#session?.release();
  }
}

/** The synchronous session object of onnxruntime-node's native binding (what its backend wraps). */
interface NativeSession {
  loadModel(path: string, options: object): void;
  run(feeds: object, fetches: object, options: object): Record<string, { data: unknown } | undefined>;
  dispose(): void;
}

const NO_FETCHES = Object.freeze({ action: null });
const NO_OPTIONS = Object.freeze({});

/** A native session for `path`, or undefined when this onnxruntime-node has no binding where 1.30 has it. */
function nativeSession(path: string, options: object): NativeSession | undefined {
  let binding: { binding: { InferenceSession: new () => NativeSession }; initOrt: () => void };
  try {
    binding = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js') as typeof binding;
    if (typeof binding.binding?.InferenceSession !== 'function' || typeof binding.initOrt !== 'function') return undefined;
  } catch {
    return undefined;
  }
  binding.initOrt();
  const s = new binding.binding.InferenceSession();
  s.loadModel(path, options);
  return s;
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
