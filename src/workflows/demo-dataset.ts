/**
 * Demo stage for the dataset tools (issue 9), run on the demo's recording: list its episodes,
 * split them into training and validation files, export a LeRobotDataset (v3.0), import it back,
 * and report the round-trip error. Artefacts land in `runDir/dataset/` and `runDir/lerobot/`.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { exportLeRobot } from '../dataset/lerobot-export.ts';
import { importLeRobot } from '../dataset/lerobot-import.ts';
import { loadDataset } from '../dataset/load.ts';
import { splitRecording } from '../dataset/split-recording.ts';
import { listEpisodes } from '../record/edit.ts';
import { table } from './table.ts';

export interface DatasetDemoOptions {
  readonly recordingFile: string;
  readonly runDir: string;
  readonly out: NodeJS.WritableStream;
  /** The LeRobot task description (default: the reach task's). */
  readonly task?: string;
  /** Fewer printed rows; the same steps. */
  readonly fast?: boolean;
}

export interface DatasetDemoResult {
  readonly episodes: number;
  readonly trainEpisodes: readonly number[];
  readonly valEpisodes: readonly number[];
  readonly lerobotDir: string;
  readonly lerobotBytes: number;
  readonly frames: number;
  readonly fps: number;
  readonly units: string;
  readonly importedFile: string;
  /** Largest |state or action difference| after export → import, radians (gripper: 0…1 units). */
  readonly roundTripMaxErrorRad: number;
  /** Same episodes, same lengths, same outcomes after the round trip. */
  readonly boundariesMatch: boolean;
  /** Largest |return difference| after the round trip. */
  readonly returnMaxError: number;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir, { recursive: true })) {
    const s = await stat(join(dir, String(f)));
    if (s.isFile()) total += s.size;
  }
  return total;
}

export async function runDatasetDemo(o: DatasetDemoOptions): Promise<DatasetDemoResult> {
  const { out } = o;
  const dsDir = join(o.runDir, 'dataset');
  await mkdir(dsDir, { recursive: true });

  const list = await listEpisodes(o.recordingFile);
  out.write(`armbridge dataset list: ${list.episodes.length} episodes at ${list.rateHz ?? '?'} Hz\n`);
  out.write(
    table(
      ['episode', 'duration s', 'samples', 'outcome', 'return', 'operator'],
      list.episodes.map((e) => [e.index, e.durationS.toFixed(2), e.samples, e.outcome, e.return === undefined ? '' : e.return.toFixed(2), e.operator ?? '']),
    ),
  );

  const split = await splitRecording(o.recordingFile, { valFraction: 0.3, seed: 1, trainOut: join(dsDir, 'train.mcap'), valOut: join(dsDir, 'val.mcap'), overwrite: true });
  out.write(`armbridge dataset split --val 0.3 --seed 1: train episodes [${split.train.join(', ')}] → ${split.trainOut}; val episodes [${split.val.join(', ')}] → ${split.valOut}\n`);

  const lerobotDir = join(o.runDir, 'lerobot');
  const exp = await exportLeRobot([o.recordingFile], lerobotDir, { task: o.task ?? 'Reach the target and hold it', overwrite: true });
  const lerobotBytes = await folderBytes(lerobotDir);
  out.write(
    `armbridge export lerobot: LeRobotDataset ${exp.codebaseVersion} (${exp.robotType}, ${exp.fps} fps, ${exp.units}), ${exp.episodes} episodes, ${exp.frames} frames, ` +
      `${(lerobotBytes / 1024).toFixed(1)} KiB → ${lerobotDir}\n`,
  );

  const importedFile = join(dsDir, 'from-lerobot.mcap');
  const imp = await importLeRobot(lerobotDir, importedFile, { overwrite: true });
  const a = await loadDataset([o.recordingFile]);
  const b = await loadDataset([importedFile]);
  const boundariesMatch =
    a.episodes.length === b.episodes.length && a.episodes.every((e, i) => e.index === b.episodes[i]!.index && e.length === b.episodes[i]!.length && e.outcome === b.episodes[i]!.outcome);
  let maxErr = 0;
  let retErr = 0;
  if (boundariesMatch) {
    a.episodes.forEach((e, i) => {
      const f = b.episodes[i]!;
      for (let k = 0; k < e.observations.length; k++) maxErr = Math.max(maxErr, Math.abs(e.observations[k]! - f.observations[k]!));
      for (let k = 0; k < e.actions.length; k++) maxErr = Math.max(maxErr, Math.abs(e.actions[k]! - f.actions[k]!));
      retErr = Math.max(retErr, Math.abs((e.return ?? 0) - (f.return ?? 0)));
    });
  } else maxErr = Number.POSITIVE_INFINITY;
  out.write(
    `armbridge import lerobot: ${imp.episodes} episodes, ${imp.frames} frames → ${importedFile}\n` +
      `round trip (record → export → import): episodes and lengths ${boundariesMatch ? 'identical' : 'DIFFERENT'}, ` +
      `largest state/action error ${maxErr.toExponential(1)} rad (float32 storage; tolerance 1e-5), largest return error ${retErr.toExponential(1)}\n`,
  );
  return {
    episodes: list.episodes.length,
    trainEpisodes: split.train,
    valEpisodes: split.val,
    lerobotDir,
    lerobotBytes,
    frames: exp.frames,
    fps: exp.fps,
    units: exp.units,
    importedFile,
    roundTripMaxErrorRad: maxErr,
    boundariesMatch,
    returnMaxError: retErr,
  };
}
