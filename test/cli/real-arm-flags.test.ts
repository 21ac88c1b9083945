/** What a model needs on a real arm, from flags and typed labels: refused before any port opens. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/command.ts';
import { fixedObservation } from '../../src/cli/fixed-observation.ts';
import { LabelLines, parseLabel } from '../../src/cli/label-lines.ts';
import { ModelMismatchError } from '../../src/control/errors.ts';
import { runCli as run } from '../helpers/cli.ts';
import { identityPolicy } from '../helpers/models.ts';

const joints = { name: 'follower.position', size: 6 };

describe('fixed observations on a real arm (deploy, eval --follower)', () => {
  it('fills the model\'s poses in its order from --target/--object/--goal/--pose, and refuses what is missing, malformed or unused', () => {
    const layout = [joints, { name: 'goal.position', size: 3 }, { name: 'pose:/cup_pose', size: 3 }];
    expect(fixedObservation('m', layout, { goal: '1,2,3', pose: '/cup_pose=4,5,6' })).toEqual({ layout: layout.slice(1), values: [1, 2, 3, 4, 5, 6] });
    expect(() => fixedObservation('m', layout, { goal: '1,2,3' })).toThrow(ModelMismatchError);
    expect(() => fixedObservation('m', layout, { goal: '1,2,3' })).toThrow(/nothing supplies pose:\/cup_pose .*give --pose \/cup_pose=x,y,z/);
    expect(() => fixedObservation('m', layout, { goal: '1,2', pose: '/cup_pose=4,5,6' })).toThrow(UsageError);
    expect(() => fixedObservation('m', layout, { goal: '1,2,3', pose: 'cup=4,5,6' })).toThrow(/--pose wants TOPIC=x,y,z/);
    expect(() => fixedObservation('m', layout, { goal: '1,2,3', pose: '/cup_pose=4,5,6', target: '0,0,0' })).toThrow(/--target is not used by it/);
    expect(fixedObservation('m', [joints], {})).toEqual({ layout: [], values: [] });
  });
});

describe('labels typed as lines (eval --follower without a terminal)', () => {
  it('reads s / f / a score per line, skips other lines, and is unlabelled once the input ends', async () => {
    expect([parseLabel('s'), parseLabel('Failure'), parseLabel('0.5'), parseLabel('maybe'), parseLabel('')]).toEqual([{ outcome: 'success' }, { outcome: 'failure' }, { outcome: 'score', score: 0.5 }, undefined, undefined]);
    const input = new PassThrough();
    const lines = new LabelLines(input);
    input.write('hello\ns\n');
    expect(await lines.next()).toEqual({ outcome: 'success' });
    const pending = lines.next();
    input.end('2\n');
    expect(await pending).toEqual({ outcome: 'score', score: 2 });
    expect(await lines.next()).toBeUndefined();
    lines.close();
  });
});

describe('eval --follower refuses before the arm is touched', () => {
  it('without --model, with --operator, and for a model that does not say its episode length (naming --episode-s)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-evalarm-'));
    const m = await identityPolicy(dir);
    expect(await run('eval', '--follower', '/nonexistent/tty', '--episodes', '1')).toMatchObject({ code: 2, err: expect.stringMatching(/eval --follower needs --model/) });
    expect(await run('eval', '--follower', '/nonexistent/tty', '--model', m, '--operator', 'expert')).toMatchObject({ code: 2, err: expect.stringMatching(/--operator evaluates the simulated operator/) });
    expect(await run('eval', '--follower', '/nonexistent/tty', '--model', m)).toMatchObject({ code: 2, err: expect.stringMatching(/does not say how long its training episodes were: give --episode-s/) });
  });
});
