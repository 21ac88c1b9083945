import { ArmbridgeError } from '../errors.ts';

export class ModelMismatchError extends ArmbridgeError {
  constructor(
    readonly model: string,
    readonly difference: string,
    /** What to do about it; default: train on recordings of this arm and layout. */
    hint = 'train a model on recordings of this arm and layout',
  ) {
    super('MODEL_MISMATCH', `model ${model} does not fit this arm: ${difference}; ${hint}`);
  }
}

export class ModelLoadError extends ArmbridgeError {
  constructor(
    readonly model: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('MODEL_LOAD', `cannot load model ${model}: ${detail}`, options);
  }
}

/** The deploy environment (the module that supplies the port and extra observations) is unusable. */
export class DeployEnvironmentError extends ArmbridgeError {
  constructor(readonly module: string, detail: string, options?: ErrorOptions) {
    super('DEPLOY_ENVIRONMENT', `deploy environment ${module}: ${detail}`, options);
  }
}

/**
 * A control rate the model cannot follow: it was learned at `modelHz` and asked to run at
 * `askedHz` (see control/control-rate.ts for the rule).
 */
export class RateMismatchError extends ArmbridgeError {
  constructor(
    readonly model: string,
    readonly modelHz: number,
    readonly askedHz: number,
    reason: string,
  ) {
    super(
      'RATE_MISMATCH',
      `model ${model} was trained at ${modelHz} Hz and cannot follow ${askedHz} Hz: ${reason}; omit --rate to run at ${modelHz} Hz, retrain on recordings made at ${askedHz} Hz, or pass --force to run it anyway`,
    );
  }
}

/** A loop asked of the loop engine without what its kind needs (deploy: a model; teleop, record: a leader; record: episodes; bridge: a command slot). */
export class LoopSpecError extends ArmbridgeError {
  constructor(readonly kind: string, readonly missing: string) {
    super('LOOP_SPEC', `a ${kind} loop needs ${missing}: give it in the loop's options (deploy: model; teleop and record: leader; record: episodes; bridge: commandSlot)`);
  }
}
