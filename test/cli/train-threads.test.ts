import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as run } from '../helpers/cli.ts';

describe('armbridge train --threads', () => {
  it('trains on the wasm trainer by default, says on how many threads, and writes the same model with --threads 1 and 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-threads-'));
    const data = join(dir, 'demos.mcap');
    expect((await run('record', '--sim', '--virtual-time', '--episodes', '4', '--episode-s', '1', '--mix', 'expert:1', '--seed', '3', '--out', data)).code).toBe(0);
    const common = ['--epochs', '3', '--hidden', '16,16', '--select', 'off', '--val', '0.25', '--seed', '2', '--no-report'];
    const one = await run('train', data, '--out', join(dir, 'one'), '--threads', '1', ...common);
    expect(one.code, one.err).toBe(0);
    expect(one.out).toMatch(/wasm SIMD trainer( \(FMA\))? on 1 thread\n/);
    const two = await run('train', data, '--out', join(dir, 'two'), '--threads', '2', ...common);
    expect(two.code, two.err).toBe(0);
    expect(two.out).toMatch(/wasm SIMD trainer( \(FMA\))? on 2 threads\n/);
    // The same bytes up to the creation time in the metadata: weights, normalisation, the other metadata.
    const upToCreated = async (name: string) => {
      const bytes = await readFile(join(dir, name, 'policy.onnx'));
      return bytes.subarray(0, bytes.indexOf('armbridge.created'));
    };
    const a = await upToCreated('one');
    expect(a.length).toBeGreaterThan(1000);
    expect(Buffer.compare(a, await upToCreated('two'))).toBe(0);
    const lean = await run('train', data, '--out', join(dir, 'lean'), '--optimizer', 'lean', '--backend', 'cpu', ...common);
    expect(lean.code, lean.err).toBe(0);
    expect(lean.out).toMatch(/tfjs cpu \(lean\)\n/);
    expect(await run('train', data, '--out', join(dir, 'x'), '--threads', '3')).toMatchObject({ code: 2, err: expect.stringMatching(/--threads/) });
  }, 60_000);
});
