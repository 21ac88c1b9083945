/**
 * The follower calibration that LeRobot units are converted through, from either kind of file:
 * armbridge's (`calibration/*.json`) or LeRobot's own (`~/.cache/huggingface/lerobot/calibration/
 * robots/<robot>/<id>.json`, which has no servo models: those come from the arm's profile).
 */
import { readFile } from 'node:fs/promises';
import { importLeRobotCalibration, loadCalibration, type Calibration } from '../arm/calibration.ts';
import { CalibrationFileError } from '../arm/errors.ts';
import { armProfile, type ArmKind } from '../arm/profiles.ts';

export async function loadFollowerCalibration(path: string, arm: ArmKind): Promise<Calibration> {
  try {
    return await loadCalibration(path);
  } catch (e) {
    if (!(e instanceof CalibrationFileError)) throw e;
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch {
      throw e;
    }
    try {
      return importLeRobotCalibration(json, armProfile(arm, 'follower'), path);
    } catch {
      throw e;
    }
  }
}
