import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, loadTf } from '../../src/learn/backend.ts';

describe('loadTf', () => {
  it('names a missing tfjs-node and what to do (BackendUnavailableError)', async () => {
    let installed = true;
    try {
      await import(['@tensorflow', 'tfjs-node'].join('/'));
    } catch {
      installed = false;
    }
    if (installed) return; // nothing to refuse where tfjs-node is installed
    const err = await loadTf('tensorflow').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err).toMatchObject({ code: 'TFJS_BACKEND', backend: 'tensorflow' });
    expect((err as Error).message).toMatch(/npm install @tensorflow\/tfjs-node, or pick --backend wasm/);
  });

  it('starts the wasm backend when asked', async () => {
    expect((await loadTf('wasm')).backend).toBe('wasm');
  });
});
