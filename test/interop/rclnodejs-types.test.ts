/**
 * rclnodejs's own API, without ROS 2: the package as published (the version package-lock.json
 * resolves for our optional dependency) is installed into a temporary folder with --ignore-scripts
 * (no native build), and the adapter src/ros/rclnodejs.ts is type-checked against its published
 * type definitions: the module must be assignable to the adapter's `Rclnodejs` interface (every
 * call the adapter makes exists, with a shape the adapter's use fits: init, Node and its
 * constructor, createPublisher/createSubscription/createService, getClock().now().nanoseconds,
 * spin, destroy, QoS and its policy constants, shutdown, isShutdown).
 *
 * Not checkable here: the message and service type names. rclnodejs's typings refer to a catalogue
 * (MessageTypeClassName, the per-package namespaces) that its install script generates from a
 * sourced ROS 2 installation; without it those names are unresolved (so `skipLibCheck`, as in our
 * own tsconfig), and a type-name parameter accepts any string.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './python.ts';

let dir: string;
let version: string;

function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 240_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { cwd, timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

async function typecheck(checkSource: string): Promise<{ code: number; out: string }> {
  await writeFile(join(dir, 'check.ts'), checkSource);
  return run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], dir);
}

beforeAll(async () => {
  const lock = JSON.parse(await readFile(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  version = lock.packages['node_modules/rclnodejs']!.version!;
  dir = await mkdtemp(join(tmpdir(), 'armbridge-rclnodejs-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'rclnodejs-typecheck', private: true, type: 'module' }));
  const npm = await run('npm', ['install', '--ignore-scripts', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `rclnodejs@${version}`], dir);
  if (npm.code !== 0) throw new Error(`npm install rclnodejs@${version} --ignore-scripts failed:\n${npm.out}`);
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022', 'ESNext.Disposable'],
        types: ['node'],
        typeRoots: [join(REPO, 'node_modules', '@types')],
        strict: true,
        esModuleInterop: true,
        skipLibCheck: true,
        verbatimModuleSyntax: true,
        allowImportingTsExtensions: true,
        noEmit: true,
      },
      files: ['check.ts'],
    }),
  );
}, 300_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the rclnodejs adapter against rclnodejs’s published typings (installed with --ignore-scripts)', () => {
  it('type-checks: the module fits the adapter’s interface', async () => {
    const adapter = join(REPO, 'src', 'ros', 'rclnodejs.ts');
    const r = await typecheck(
      [
        `import * as rclnodejs from 'rclnodejs';`,
        `import type { Rclnodejs } from '${adapter}';`,
        `export const adapted: Rclnodejs<rclnodejs.QoS> = rclnodejs;`,
      ].join('\n'),
    );
    expect(r.out, `tsc against rclnodejs@${version}`).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);

  it('would catch a call the adapter assumes that rclnodejs does not have (the check can fail)', async () => {
    const r = await typecheck(
      [
        `import * as rclnodejs from 'rclnodejs';`,
        `import type { Rclnodejs } from '${join(REPO, 'src', 'ros', 'rclnodejs.ts')}';`,
        `type Assumed = Rclnodejs<rclnodejs.QoS> & { Node: new (name: string) => { createPublisherWithLatching(type: string, topic: string): void } };`,
        `export const adapted: Assumed = rclnodejs;`,
      ].join('\n'),
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/createPublisherWithLatching/);
  }, 120_000);
});
