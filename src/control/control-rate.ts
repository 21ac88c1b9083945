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
 * How far from its training rate a rate-bound model may run, as a factor either way. A policy with
 * relative actions (`actionMode: 'relative'`, the default of `armbridge train`) outputs a change of
 * the joints that the graph adds to the current position; it learned that change from cycles
 * 1/R s apart, i.e. how far the leader led the follower given that the servos travel for 1/R s
 * before the next observation. Run k times faster and each cycle's goal still leads by a
 * full-cycle change that the servos no longer have time to close, so the arm's speed and the loop's
 * effective gain change by about k; run k times slower and the servos settle between cycles (a
 * stop-and-go arm that covers 1/k of the trained speed) while the target moment passes. Within a
 * factor of 2 the closed loop stays near what the data showed (the scripted operator's own speed
 * varies by that much between episodes), so such a rate is allowed with a warning; beyond it the
 * model is refused unless forced. A model with absolute targets (`actionMode: 'absolute'`) names
 * where the joints should be, not how far to move per cycle, so another rate changes its tracking
 * far less (measured in issue 14: an absolute-target BC model trained at 20 Hz reached 7/10 targets
 * at 20 Hz and 10/10 at 200 Hz): any other rate only warns.
 */
export const MAX_RATE_FACTOR = 2;

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
    throw new ModelLoadError(path, `${(e as Error).message} (train one with armbridge train)`, { cause: e });
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
 * FALLBACK_RATE_HZ (with a note). Another rate: a note (warning), or RateMismatchError for a
 * rate-bound model beyond MAX_RATE_FACTOR unless `force`.
 */
export function resolveControlRate(model: string, meta: Pick<PolicyMetadata, 'rateHz' | 'actionMode'>, askedHz?: number, force = false): ControlRate {
  const modelHz = meta.rateHz;
  if (askedHz === undefined) {
    if (modelHz !== undefined) return { rateHz: modelHz, source: 'model', modelHz, note: undefined };
    return { rateHz: FALLBACK_RATE_HZ, source: 'fallback', modelHz, note: `model ${model} does not say its control rate (trained before armbridge recorded it): running at ${FALLBACK_RATE_HZ} Hz; give --rate to choose\n` };
  }
  if (modelHz === undefined) return { rateHz: askedHz, source: 'asked', modelHz, note: undefined };
  if (askedHz === modelHz) return { rateHz: askedHz, source: 'model', modelHz, note: undefined };
  const factor = Math.max(askedHz / modelHz, modelHz / askedHz);
  const rateBound = meta.actionMode !== 'absolute';
  if (rateBound && factor > MAX_RATE_FACTOR) {
    const reason = `its actions are joint changes per cycle learned at ${modelHz} Hz, and ${askedHz} Hz is ${factor.toFixed(1)}× ${askedHz > modelHz ? 'faster' : 'slower'} (more than ${MAX_RATE_FACTOR}×), so the arm would not move as the model learned`;
    if (!force) throw new RateMismatchError(model, modelHz, askedHz, reason);
    return { rateHz: askedHz, source: 'asked', modelHz, note: `warning: --force: running ${model} at ${askedHz} Hz although it was trained at ${modelHz} Hz (${reason})\n` };
  }
  return { rateHz: askedHz, source: 'asked', modelHz, note: `warning: model ${model} was trained at ${modelHz} Hz; running it at ${askedHz} Hz as asked (omit --rate to use the model's rate)\n` };
}
