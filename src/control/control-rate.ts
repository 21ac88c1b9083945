/**
 * The control rate travels with the model: `armbridge train` writes the recordings' rate into the
 * ONNX metadata (`armbridge.rate_hz`), and deployment runs at it unless told otherwise. This module
 * reads a model file's metadata without onnxruntime (cheap enough for the main thread before a
 * worker loads the model) and decides the rate a deployment runs at.
 */
import { readFile } from 'node:fs/promises';
import { propsToMetadata, type PolicyMetadata } from '../dataset/policy-metadata.ts';
import { ModelLoadError, ModelMismatchError, RateMismatchError } from './errors.ts';
import { onnxMetadataProps } from './onnx-metadata.ts';

/** The rate for models that do not say theirs (trained before the rate was recorded), Hz. */
export const FALLBACK_RATE_HZ = 200;

/**
 * The slowest rate, as a fraction of the model's, that a model is run at without --force.
 *
 * A policy closes its loop once per cycle: it was trained on observations 1/R s apart, and each of
 * its actions (a target the servos chase, or a change the graph adds to the joints) is what the
 * operator did next within that time. Run slower and the servos reach each target and wait before
 * the next correction, so the arm moves in steps and overshoots what it learned to correct every
 * 1/R s; run faster and it is corrected more often than it learned, which the servos' own tracking
 * smooths out. Measured (virtual-time `armbridge eval`, 50 held-out targets, BC on 200 expert
 * demonstrations at 20 Hz, CLI defaults = relative actions; so101 / koch success):
 *   5 Hz 4 / 10 %, 7 Hz 22 / 34 %, 8 Hz 60 / 62 %, 10 Hz 78 / 86 %, 12 Hz 86 / 94 %, 14 Hz 92 / 96 %,
 *   20 Hz 94 / 100 %, 40 Hz 98 / 100 %, 200 Hz 98 / 100 %, 1000 Hz 98 / 100 %.
 * An absolute-target model (--absolute-actions, so101) went 58 % at 20 Hz, 58 % at 10 Hz, 12 % at
 * 7 Hz, 48 % at 200 Hz; issue 14 measured an absolute model deployed over a pty at 7/10 targets at
 * its 20 Hz and 10/10 at 200 Hz.
 * So a model cannot follow a rate much slower than its own: below ⅔ of it (0.6× already costs
 * 6–8 points of success, 0.5× 14–16, 0.35× two thirds) it is refused unless forced. Any faster
 * rate, and a slower one down to ⅔, only warns: faster costs nothing measurable for relative
 * actions (the default) and little for absolute ones, and the loop itself reports when it cannot
 * keep up (overruns).
 */
export const MIN_RATE_FRACTION = 2 / 3;

export interface ControlRate {
  /** The rate to run at, Hz. */
  readonly rateHz: number;
  /** model: the model's own rate; asked: --rate (differs from the model's or the model has none); fallback: neither. */
  readonly source: 'model' | 'asked' | 'fallback';
  /** The rate in the model's metadata, if any. */
  readonly modelHz: number | undefined;
  /** A line to show the user (another rate than the model's, a forced one, or the fallback). */
  readonly note: string | undefined;
}

/** Reads and parses a model file's armbridge metadata; typed errors for a missing, unreadable or foreign file. */
export async function readPolicyMetadata(path: string): Promise<PolicyMetadata> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new ModelLoadError(path, (e as NodeJS.ErrnoException).code === 'EISDIR' ? 'it is a folder without policy.onnx (give the policy.onnx that armbridge train wrote, or its folder)' : `${(e as Error).message} (train one with armbridge train)`, { cause: e });
  }
  let props: Record<string, string>;
  try {
    props = onnxMetadataProps(bytes);
  } catch (e) {
    throw new ModelLoadError(path, `not a readable ONNX file (${(e as Error).message})`, { cause: e });
  }
  const meta = propsToMetadata(props);
  if (!meta) throw new ModelMismatchError(path, 'it has no armbridge metadata (armbridge.format), so nothing says which joints and observations it expects');
  return meta;
}

/**
 * The rate to deploy `meta`'s model at. `askedHz` undefined: the model's rate, else
 * FALLBACK_RATE_HZ (with a note). Another rate: a note (warning), or RateMismatchError for a rate
 * below MIN_RATE_FRACTION of the model's unless `force`.
 */
export function resolveControlRate(model: string, meta: Pick<PolicyMetadata, 'rateHz'>, askedHz?: number, force = false): ControlRate {
  const modelHz = meta.rateHz;
  if (askedHz === undefined) {
    if (modelHz !== undefined) return { rateHz: modelHz, source: 'model', modelHz, note: undefined };
    return { rateHz: FALLBACK_RATE_HZ, source: 'fallback', modelHz, note: `model ${model} does not say its control rate (trained before armbridge recorded it): running at ${FALLBACK_RATE_HZ} Hz; give --rate to choose\n` };
  }
  if (modelHz === undefined) return { rateHz: askedHz, source: 'asked', modelHz, note: undefined };
  if (askedHz === modelHz) return { rateHz: askedHz, source: 'model', modelHz, note: undefined };
  if (askedHz < modelHz * MIN_RATE_FRACTION) {
    const reason = `it learned to correct the arm ${modelHz} times a second, and at ${askedHz} Hz (${(askedHz / modelHz).toFixed(2)}× its rate, below ${MIN_RATE_FRACTION.toFixed(2)}×) the arm moves in steps it was never shown; measured on the simulated reach task, half the rate costs about 15 points of success`;
    if (!force) throw new RateMismatchError(model, modelHz, askedHz, reason);
    return { rateHz: askedHz, source: 'asked', modelHz, note: `warning: --force: running ${model} at ${askedHz} Hz although it was trained at ${modelHz} Hz (${reason})\n` };
  }
  return { rateHz: askedHz, source: 'asked', modelHz, note: `warning: model ${model} was trained at ${modelHz} Hz; running it at ${askedHz} Hz as asked (omit --rate to use the model's rate)\n` };
}
