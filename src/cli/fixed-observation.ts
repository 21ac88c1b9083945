/**
 * Fixed observations for a model on a real arm (deploy, eval --follower): every feature the model
 * observes after the joints comes from a flag, in the model's order.
 */
import { z } from 'zod';
import { ModelMismatchError } from '../control/errors.ts';
import { describeLayout, featureSpec, POSE_PREFIX } from '../dataset/features.ts';
import { UsageError } from './command.ts';

export const fixedPoseOptions = {
  target: z.string().optional().describe('A fixed target point x,y,z (m) for models that observe target.position (real arm; --sim publishes its own)'),
  object: z.string().optional().describe('A fixed object position x,y,z (m) for pick-and-place models, which observe object.position (real arm; --sim publishes its own)'),
  goal: z.string().optional().describe('A fixed goal position x,y,z (m) for pick-and-place models, which observe goal.position (real arm; --sim publishes its own)'),
  pose: z.string().optional().describe('Fixed positions for models that observe other pose topics (pose:/TOPIC): TOPIC=x,y,z, several separated by ";", e.g. "/cup_pose=0.2,0.05,0.01" (real arm)'),
};

/** A point x,y,z (m) from a flag's text. */
function point(flag: string, text: string): number[] {
  const v = text.split(',').map(Number);
  if (v.length !== 3 || !v.every(Number.isFinite)) throw new UsageError(`--${flag} wants three numbers x,y,z in metres, got "${text}"`);
  return v;
}

/**
 * The observation after the follower's joints that a model needs on a real arm, from the flags that
 * supply it (--target, --object, --goal for the usual poses, --pose TOPIC=x,y,z for others), in the
 * model's order. Refuses, naming the flag, a feature no flag gives and a flag the model does not use.
 */
export function fixedObservation(model: string, observation: readonly { readonly name: string; readonly size: number }[], o: { target?: string; object?: string; goal?: string; pose?: string }): { layout: { name: string; size: number }[]; values: number[] } {
  const given = new Map<string, { flag: string; value: number[] }>();
  for (const [name, flag, text] of [['target.position', 'target', o.target], ['object.position', 'object', o.object], ['goal.position', 'goal', o.goal]] as const) {
    if (text !== undefined) given.set(name, { flag: `--${flag}`, value: point(flag, text) });
  }
  for (const part of (o.pose ?? '').split(';').map((x) => x.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const spec = eq > 0 ? featureSpec(`${POSE_PREFIX}${part.slice(0, eq).trim()}`) : undefined;
    if (!spec) throw new UsageError(`--pose wants TOPIC=x,y,z (e.g. /cup_pose=0.2,0.05,0.01), got "${part}"`);
    given.set(spec.name, { flag: `--pose ${part.slice(0, eq).trim()}=…`, value: point('pose', part.slice(eq + 1)) });
  }
  const layout: { name: string; size: number }[] = [];
  const values: number[] = [];
  for (const f of observation) {
    if (f.name === 'follower.position') continue;
    const spec = featureSpec(f.name);
    const g = given.get(f.name);
    if (!g || !spec) {
      const flag = f.name === 'target.position' ? '--target x,y,z' : f.name === 'object.position' ? '--object x,y,z' : f.name === 'goal.position' ? '--goal x,y,z' : spec ? `--pose ${spec.topic}=x,y,z` : undefined;
      throw new ModelMismatchError(
        model,
        `it observes ${describeLayout(observation)}, and nothing supplies ${f.name}${spec ? ` (recorded from ${spec.topic})` : ''}`,
        flag ? `give ${flag} (a fixed position, m), or run it on ROS topics with armbridge ros deploy (a perception node publishing ${spec!.topic}), or train a joint-only model with --obs follower.position` : 'train a model on recordings of this arm and layout',
      );
    }
    if (f.size !== 3) throw new ModelMismatchError(model, `it observes ${f.name} with ${f.size} values; a fixed position has 3`);
    layout.push({ name: f.name, size: 3 });
    values.push(...g.value);
    given.delete(f.name);
  }
  const unused = [...given.values()].map((g) => g.flag);
  if (unused.length) throw new UsageError(`the model observes ${describeLayout(observation)}: ${unused.join(', ')} ${unused.length === 1 ? 'is' : 'are'} not used by it; leave ${unused.length === 1 ? 'it' : 'them'} out`);
  return { layout, values };
}

