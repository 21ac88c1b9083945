import { readPolicyMetadata } from '../control/control-rate.ts';
import { taskForObservation } from '../sim/create-task.ts';
import type { TaskName } from '../sim/task.ts';

/** The simulated task whose poses a model observes (pick-place: object and goal; reach: the target), if any. */
export async function taskOfModel(model: string): Promise<TaskName | undefined> {
  return taskForObservation((await readPolicyMetadata(model)).observation.map((p) => p.name));
}
