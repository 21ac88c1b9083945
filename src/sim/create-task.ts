/** The simulated tasks by name. */
import type { KinematicArm } from './kinematics.ts';
import { PickPlaceTask } from './pick-place-task.ts';
import { ReachTask } from './reach-task.ts';
import type { SimTask, TaskFeature, TaskName } from './task.ts';

export function createTask(name: TaskName, arm: KinematicArm): SimTask {
  return name === 'pick-place' ? new PickPlaceTask({ arm }) : new ReachTask({ arm });
}

/** The poses a task publishes, in observation order (without building it). */
export function taskFeatures(name: TaskName): readonly TaskFeature[] {
  return createTask(name, 'so101').features;
}

/** The task whose observation layout (after follower.position) is `names`; undefined when none. */
export function taskForObservation(names: readonly string[]): TaskName | undefined {
  const rest = names.filter((n) => n !== 'follower.position').join(',');
  for (const t of ['reach', 'pick-place'] as const) if (taskFeatures(t).map((f) => f.name).join(',') === rest) return t;
  return undefined;
}
