import { readPolicyMetadata } from '../control/control-rate.ts';
import { taskForObservation } from '../sim/create-task.ts';
import { taskNamed, type TaskName } from '../sim/task.ts';

/**
 * The simulated task of a model: the one its training recordings were made on (its metadata), else
 * the one whose poses it observes (pick-place: object and goal; reach: the target), if any.
 */
export async function taskOfModel(model: string): Promise<TaskName | undefined> {
  const meta = await readPolicyMetadata(model);
  return taskNamed(meta.sim?.task) ?? taskForObservation(meta.observation.map((p) => p.name));
}
