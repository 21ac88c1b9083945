/**
 * The TensorFlow.js backend for training: @tensorflow/tfjs-node when the user has it (optional, not
 * a dependency), else WebAssembly (@tensorflow/tfjs-backend-wasm, SIMD, single-threaded in Node),
 * else the pure-JS cpu backend. Callers print which one ran.
 */
import type * as TF from '@tensorflow/tfjs';
import { ArmbridgeError } from '../errors.ts';

export type Tf = typeof TF;
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** The tfjs backend asked for (`--backend`) cannot run here. */
export class BackendUnavailableError extends ArmbridgeError {
  constructor(readonly backend: BackendName, detail: string, options?: ErrorOptions) {
    super('TFJS_BACKEND', `the tfjs backend ${backend} ${detail}`, options);
  }
}

export async function loadTf(prefer?: BackendName): Promise<{ tf: Tf; backend: BackendName }> {
  if (prefer === undefined || prefer === 'tensorflow') {
    try {
      const name = '@tensorflow/tfjs-node';
      const tfn = (await import(/* optional */ name)) as Tf;
      await tfn.setBackend('tensorflow');
      await tfn.ready();
      return { tf: tfn, backend: 'tensorflow' };
    } catch (err) {
      if (prefer === 'tensorflow') throw new BackendUnavailableError('tensorflow', 'is not available (@tensorflow/tfjs-node is not installed): npm install @tensorflow/tfjs-node, or pick --backend wasm', { cause: err });
    }
  }
  const tf = await import('@tensorflow/tfjs');
  if (prefer === undefined || prefer === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return { tf, backend: 'wasm' };
      }
    } catch (err) {
      if (prefer === 'wasm') throw new BackendUnavailableError('wasm', 'could not start (@tensorflow/tfjs-backend-wasm): reinstall with npm ci, or pick --backend cpu', { cause: err });
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { tf, backend: 'cpu' };
}
