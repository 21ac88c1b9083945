import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { main } from '../../src/cli/main.ts';

/** Runs `armbridge ARGV` in-process and captures its exit code, stdout and stderr. */
export async function runCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) }) as unknown as NodeJS.WriteStream;
  const code = await main(argv, { stdout: w((s) => (out += s)) as typeof process.stdout, stderr: w((s) => (err += s)) as typeof process.stderr });
  return { code, out, err };
}

/** Parses stdout that must be exactly one JSON object (one line) and nothing else. */
export function onlyJson(out: string): Record<string, unknown> {
  expect(out.endsWith('\n')).toBe(true);
  expect(out.trimEnd().split('\n')).toHaveLength(1);
  const v: unknown = JSON.parse(out);
  expect(typeof v === 'object' && v !== null && !Array.isArray(v)).toBe(true);
  return v as Record<string, unknown>;
}
