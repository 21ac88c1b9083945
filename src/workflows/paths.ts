/** Where the project's shipped files are, independent of the working directory. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The calibration file shipped for a simulated arm. */
export function simCalibrationPath(arm: string, role: string): string {
  return join(PROJECT_ROOT, 'calibration', `${arm}-${role}.sim.json`);
}

/** The Foxglove Studio layout for recordings and run logs (leader vs follower, action vs state, events, reward). */
export const FOXGLOVE_LAYOUT = join(PROJECT_ROOT, 'launch', 'foxglove', 'armbridge-layout.json');
