/**
 * The follower calibration that LeRobot units are converted through, from either kind of file:
 * armbridge's (`calibration/*.json`) or LeRobot's own (`~/.cache/huggingface/lerobot/calibration/
 * robots/<robot>/<id>.json`, which has no servo models: those come from the arm's profile).
 */
import { loadCalibration, loadCalibrationAnyFormat, type Calibration } from '../arm/calibration.ts';
import { CalibrationFileError } from '../arm/errors.ts';
import { armProfile, type ArmKind } from '../arm/profiles.ts';

/** Either format; when neither fits, the error is armbridge's own (what its format expected). */
export async function loadFollowerCalibration(path: string, arm: ArmKind): Promise<Calibration> {
  try {
    return await loadCalibration(path);
  } catch (e) {
    if (!(e instanceof CalibrationFileError)) throw e;
    return loadCalibrationAnyFormat(path, armProfile(arm, 'follower')).catch(() => {
      throw e;
    });
  }
}
