/**
 * Replay plots: per joint, the recorded action, the policy's action for the same observation
 * (offline replay) and, when an episode was also played on an arm, the follower's reproduced
 * trajectory on the same time axis; episode starts as vertical rules. Also saved one SVG per joint.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OfflineReport } from '../replay/offline.ts';
import type { ReplayToArmResult } from '../replay/to-arm.ts';
import { trajectoryFigure } from '../report/figures.ts';
import { renderSvg, type Figure } from '../report/render.ts';

/** An episode replayed on an arm: which one, and what the follower did. */
export interface ReproducedEpisode {
  readonly file: string;
  readonly episode: number;
  readonly trajectory: ReplayToArmResult['trajectory'];
}

export function replayJointFigures(offline: OfflineReport, reproduced?: ReproducedEpisode): Figure[] {
  const s = offline.series;
  const start = reproduced && s.episodeStarts.find((e) => e.index === reproduced.episode && e.file === reproduced.file);
  return s.jointNames.map((joint, j) => {
    const series = [
      { name: 'recorded', values: Array.from(s.recorded[j]!) },
      { name: 'predicted', values: Array.from(s.predicted[j]!) },
    ];
    if (reproduced && start) {
      // The arm's samples onto the offline axis (sample index / rate), from the episode's start.
      const values = new Array<number>(s.timeS.length).fill(NaN);
      const t = reproduced.trajectory.timeS;
      for (let k = 0; k < t.length; k++) {
        const i = Math.round((start.timeS + t[k]!) * offline.rateHz);
        if (i >= 0 && i < values.length) values[i] = reproduced.trajectory.reproduced[j]![k]!;
      }
      series.push({ name: 'reproduced', values });
    }
    const unit = joint === 'gripper' ? '0…1' : 'rad';
    return trajectoryFigure(`joint-${joint}`, `${joint}: recorded vs predicted action${reproduced && start ? `, reproduced follower (episode ${reproduced.episode})` : ''}`, {
      joint,
      unit,
      timeS: Array.from(s.timeS),
      series,
      episodeStartsS: s.episodeStarts.map((e) => e.timeS),
    });
  });
}

/** Saves each figure as `<dir>/<name>.svg` (name: the figure id without its `joint-` prefix) and returns the paths. */
export async function writeFigureSvgs(figures: readonly Figure[], dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const f of figures) {
    const path = join(dir, `${f.id.replace(/^joint-/, '')}.svg`);
    await writeFile(path, await renderSvg(f));
    paths.push(path);
  }
  return paths;
}
