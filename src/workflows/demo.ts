/**
 * `npm run demo`: the whole project as it stands, on simulated arms (over real ptys when socat is
 * installed): find the servos and drive them, calibrate an arm, teleoperate leader → follower with
 * the scripted operator and the reach task. Artefacts land in one run folder.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calibrateArm } from '../arm/calibrate.ts';
import { saveCalibration } from '../arm/calibration.ts';
import { armProfile } from '../arm/profiles.ts';
import { SafetyStopError } from '../arm/errors.ts';
import { describeSafety } from '../arm/safety-filter.ts';
import { MotorBus } from '../bus/motor-bus.ts';
import { scanPort } from '../bus/scan.ts';
import type { Vendor } from '../protocol/index.ts';
import type { SimArmKind } from '../sim/presets.ts';
import { table } from './table.ts';
import { simCalibrationHand } from './sim-calibration.ts';
import { inspectRecording } from '../record/inspect.ts';
import { replayAgainstPolicy } from '../replay/offline.ts';
import { recordSim } from './record-sim.ts';
import { createTask } from '../sim/create-task.ts';
import type { TaskName } from '../sim/task.ts';
import { deploySim } from './deploy-sim.ts';
import { RETURN_S } from './deploy-sim-env.ts';
import { rollout } from './sim-rollout.ts';
import { trainFromRecordings } from './train.ts';
import { openSimPort } from './sim-port.ts';
import { percentile } from './stats.ts';
import { runSimTeleop, type SimTeleopResult } from './teleop-sim.ts';
import { runReplayDemo } from './demo-replay.ts';
import { runDatasetDemo } from './demo-dataset.ts';
import { writeDemoReport } from './demo-report.ts';
import { runImproveDemo } from './demo-improve.ts';
import { replayJointFigures, writeFigureSvgs } from './replay-figures.ts';

export interface DemoOptions {
  readonly seconds: number;
  readonly rateHz: number;
  /** Seeds every random part of the run (world, operators, splits, training): another seed, other numbers. */
  readonly seed?: number;
  /** The task recorded, learned and deployed in steps 4–8 (default reach; teleop in step 3 is reach). */
  readonly task?: TaskName;
  readonly out: NodeJS.WritableStream;
  readonly signal?: AbortSignal;
}

export interface BusDemoResult {
  readonly arm: SimArmKind;
  readonly transport: string;
  readonly servos: number;
  readonly cycles: number;
  readonly achievedHz: number;
  readonly trackingErrorCounts: number;
  readonly timeouts: number;
  readonly retries: number;
}

export async function runBusDemo(kind: SimArmKind, options: DemoOptions): Promise<BusDemoResult> {
  const out = options.out;
  const sim = await openSimPort(kind, 'follower', 'pty');
  try {
    out.write(`\n== ${kind} follower, simulated, ${sim.transport === 'pty' ? `served on a real pty at ${sim.path}` : 'in-process serial binding (socat not found, so no pty)'}\n`);
    const vendor: Vendor = kind === 'so101' ? 'feetech' : 'dynamixel';
    const found = await scanPort({ path: sim.path, binding: sim.binding, vendors: [vendor], bauds: [1_000_000], windowMs: 50 });
    out.write(table(['id', 'model', 'model number', 'firmware', 'baud'], found.map((s) => [s.id, s.model ?? '?', s.modelNumber, s.firmware, s.baud])));
    const models = Object.fromEntries(found.map((s) => [s.id, s.model!]));
    const ids = found.map((s) => s.id);
    await using bus = await MotorBus.open({ path: sim.path, binding: sim.binding, vendor, baud: 1_000_000, models });
    for (const id of ids) await bus.writeRaw(id, vendor === 'feetech' ? 7 : 9, [0]); // Return_Delay_Time = 0, as LeRobot configures
    const start = await bus.syncRead('Present_Position', ids);
    for (const id of ids) await bus.writeRaw(id, vendor === 'feetech' ? 40 : 64, [1]); // torque on
    // Every joint but the gripper swings ±150 counts around where it started (0.4 Hz).
    const periodMs = 1000 / options.rateHz;
    const t0 = performance.now();
    let cycles = 0;
    let errSum = 0;
    let next = t0;
    while (performance.now() - t0 < options.seconds * 1000 && !options.signal?.aborted) {
      const t = (performance.now() - t0) / 1000;
      const present = await bus.syncRead('Present_Position', ids);
      const goals = ids.map((id, i) => (i === ids.length - 1 ? start[i]! : Math.round(start[i]! + 150 * Math.sin(2 * Math.PI * 0.4 * t))));
      await bus.syncWrite('Goal_Position', ids.map((id, i) => [id, goals[i]!] as const));
      errSum += present.reduce((s, p, i) => s + Math.abs(p - goals[i]!), 0) / ids.length;
      cycles++;
      next += periodMs;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const elapsed = (performance.now() - t0) / 1000;
    for (const id of ids) await bus.writeRaw(id, vendor === 'feetech' ? 40 : 64, [0]); // torque off
    const health = [...bus.health.servos.values()];
    const result: BusDemoResult = {
      arm: kind,
      transport: sim.transport,
      servos: ids.length,
      cycles,
      achievedHz: cycles / elapsed,
      trackingErrorCounts: errSum / Math.max(1, cycles),
      timeouts: health.reduce((s, h) => s + h.timeouts, 0),
      retries: health.reduce((s, h) => s + h.retries, 0),
    };
    out.write(
      `drove ${ids.length} joints for ${elapsed.toFixed(1)} s: ${cycles} sync-read + sync-write cycles at ${result.achievedHz.toFixed(0)} Hz ` +
        `(asked ${options.rateHz}), mean |goal − present| ${result.trackingErrorCounts.toFixed(1)} counts, ` +
        `${result.timeouts} timeouts, ${result.retries} retries\n`,
    );
    return result;
  } finally {
    await sim.close();
  }
}

export interface DemoResult {
  readonly runDir: string;
  readonly buses: BusDemoResult[];
  readonly calibrationFile: string;
  readonly teleop: SimTeleopResult;
  readonly recordingFile: string;
}

export async function runDemo(options: DemoOptions & { readonly fast?: boolean; readonly runDir?: string; readonly report?: boolean }): Promise<DemoResult> {
  const out = options.out;
  const seed = options.seed ?? 1;
  const runDir = options.runDir ?? join('runs', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(runDir, { recursive: true });
  const task: TaskName = options.task ?? 'reach';
  const taskEpisodeS = createTask(task, 'so101').episodeS;
  const scenes = task === 'reach' ? 'targets' : 'scenes';
  const done = task === 'reach' ? 'targets reached and held' : 'cubes placed on the goal';
  out.write(`armbridge demo: simulated arms speaking the real servo protocols over a real serial stack\nartefacts: ${runDir}; seed ${seed}; task ${task}\n`);

  out.write('\n# 1. Servo buses: find the servos, drive every joint with sync read + sync write\n');
  const buses: BusDemoResult[] = [];
  for (const kind of ['so101', 'koch'] as const) {
    if (options.signal?.aborted) break;
    buses.push(await runBusDemo(kind, options));
  }

  out.write('\n# 2. Calibration of a simulated SO-101 follower (the simulator\'s hand does the moves)\n');
  const sim = await openSimPort('so101', 'follower', 'in-process');
  const calibrationFile = join(runDir, 'so101-follower.calibration.json');
  try {
    const profile = armProfile('so101', 'follower');
    await using bus = await MotorBus.open({ path: sim.path, binding: sim.binding, vendor: 'feetech', baud: 1_000_000 });
    const cal = await calibrateArm(bus, profile, simCalibrationHand(sim.arm, { secondsPerJoint: options.fast ? 0.5 : 0.8 }));
    await saveCalibration(calibrationFile, cal);
    out.write(table(['joint', 'id', 'homing offset', 'range (ticks)'], Object.entries(cal.joints).map(([n, j]) => [n, j.id, j.homing_offset, `${j.range_min}…${j.range_max}`])));
    out.write(`written to ${calibrationFile}; wrist_roll's raw travel crosses the encoder wrap, and the calibration puts the wrap outside it\n`);
  } finally {
    await sim.close();
  }

  out.write('\n# 3. Teleoperation: scripted operator on the leader, follower through the SafetyFilter, reach task\n');
  const teleop = await runSimTeleop({
    arm: 'so101',
    // SCHED_FIFO where permitted, as `armbridge teleop` and the deployment below ask.
    realtimePriority: 50,
    rateHz: options.rateHz,
    durationS: options.fast ? 4 : 8,
    episodeS: 4,
    skill: 'expert',
    signal: options.signal,
    log: (l) => out.write(l),
  });
  const late = [...teleop.latenessUs].sort((a, b) => a - b);
  out.write(
    `${teleop.cycles} cycles at ${teleop.achievedHz.toFixed(1)} Hz (asked ${options.rateHz}) over ${teleop.transport === 'pty' ? 'real ptys' : 'the in-process binding'}; ` +
      `deadline lateness p50 ${percentile(late, 50).toFixed(0)} µs, p99 ${percentile(late, 99).toFixed(0)} µs; tracking error ${teleop.trackingErrorRad.toFixed(4)} rad; ` +
      `${teleop.successes}/${teleop.episodes} episodes reached and held the target\nsafety: ${describeSafety(teleop.safety)}\n`,
  );

  out.write("\n# 3b. Safety: the leader's cable is pulled half a second into teleoperation\n");
  let safetyStop = 'no stop (unexpected)';
  try {
    await runSimTeleop({ arm: 'so101', rateHz: options.rateHz, durationS: 3, unplugLeaderAfterS: 0.5, signal: options.signal, log: (l) => out.write(l) });
  } catch (e) {
    if (!(e instanceof SafetyStopError)) throw e;
    safetyStop = e.message;
  }
  out.write(`${safetyStop}\n`);

  out.write(`\n# 4. Recording demonstrations of mixed quality (${task}) into a crash-safe MCAP file\n`);
  const recordingFile = join(runDir, 'demonstrations.mcap');
  const rec = await recordSim({
    realtimePriority: 50,
    arm: 'so101',
    task,
    out: recordingFile,
    rateHz: 100,
    episodes: options.fast ? 3 : 6,
    episodeS: taskEpisodeS,
    resetS: 0.5,
    mix: { expert: 0.5, noisy: 0.2, poor: 0.3 },
    seed: 10 + seed,
    signal: options.signal,
    log: (l) => out.write(l),
  });
  const inspected = await inspectRecording(recordingFile);
  out.write(
    table(
      ['episode', 'operator', 'duration s', 'samples', 'rate Hz', 'dropped cycles', 'outcome', 'return'],
      inspected.episodes.map((e) => [e.index, e.operator ?? '', e.durationS.toFixed(2), e.samples, e.achievedHz.toFixed(1), e.droppedCycles, e.outcome, e.return?.toFixed(2) ?? '']),
    ),
  );
  out.write(`${rec.recorder.written} messages in ${rec.recorder.chunks} chunks (${(rec.recorder.bytes / 1e6).toFixed(2)} MB, ${rec.recorder.dropped} dropped) → ${recordingFile}\n`);

  out.write('\n# 4b. Datasets that travel: list, split by episode, export to LeRobot (v3.0 Parquet) and import back\n');
  const dataset = await runDatasetDemo({ recordingFile, runDir, out, fast: options.fast, task: task === 'reach' ? 'Reach the target and hold it' : 'Pick up the cube and put it in the bin' });

  out.write(`\n# 5. Learning (${task}): BC, RWR and AWR on demonstrations of mixed quality, exported to ONNX, evaluated on held-out ${scenes}\n`);
  const demoEpisodes = options.fast ? 60 : 200;
  const demoRateHz = 20;
  const demosFile = join(runDir, 'demonstrations-virtual-time.mcap');
  const mix = { expert: 0.5, noisy: 0.2, poor: 0.3 };
  const demos = await rollout({ arm: 'so101', task, seed: 20 + seed, episodes: demoEpisodes, episodeS: taskEpisodeS, rateHz: demoRateHz, driver: { kind: 'operator', mix }, out: demosFile });
  out.write(
    `${demoEpisodes} demonstrations at ${demoRateHz} Hz generated in virtual time (same format as the recording above; 50 % expert, the rest noisy or systematically poor): ` +
      `${(demos.successRate * 100).toFixed(0)} % successful → ${demosFile}\n`,
  );
  const evalEpisodes = options.fast ? 10 : 50;
  const evalAt = { arm: 'so101' as const, task, seed: 100_000 + seed, episodes: evalEpisodes, episodeS: taskEpisodeS, rateHz: demoRateHz };
  const expert = await rollout({ ...evalAt, driver: { kind: 'operator', mix: { expert: 1 } } });
  out.write(`the expert operator on the ${evalEpisodes} held-out ${scenes}: ${(expert.successRate * 100).toFixed(0)} % success, return ${expert.meanReturn.toFixed(2)} ± ${expert.stdReturn.toFixed(2)}\n`);
  const learned: { method: string; success: number; meanReturn: number; ret: string; model: string; curve: string; backend: string; rateHz: number }[] = [];
  const trained: { method: string; result: Awaited<ReturnType<typeof trainFromRecordings>>['result']; ev: Awaited<ReturnType<typeof rollout>> }[] = []; // for report.html
  for (const [method, cfg] of [
    ['BC', { algo: 'bc' }],
    ['RWR (exp, β = 0.5)', { algo: 'rwr', rwr: { kind: 'exp', beta: 0.5 } }],
    ['AWR (β = 1)', { algo: 'awr', awr: { beta: 1 } }],
  ] as const) {
    out.write(`training ${method} with the CLI's defaults (armbridge train --algo ${cfg.algo})…\n`);
    const m = await trainFromRecordings({
      ...cfg,
      data: [demosFile],
      out: join(runDir, `model-${cfg.algo}`),
      ...(options.fast ? { epochs: 25 } : {}),
      seed,
      log: (l) => out.write(`  ${l}`),
      onEpoch: (st, epochs) => {
        if (st.epoch % 10 === 0 || st.epoch === epochs) out.write(`  epoch ${st.epoch}/${epochs}: train ${st.trainLoss.toFixed(4)}, val ${st.valLoss.toFixed(4)}, ${(st.samplesPerS / 1000).toFixed(1)}k samples/s\n`);
      },
    });
    const ev = await rollout({ ...evalAt, driver: { kind: 'policy', model: m.modelPath } });
    trained.push({ method, result: m.result, ev });
    learned.push({ method, success: ev.successRate, meanReturn: ev.meanReturn, ret: `${ev.meanReturn.toFixed(2)} ± ${ev.stdReturn.toFixed(2)}`, model: m.modelPath, curve: m.curvePath, backend: m.backend, rateHz: m.metadata.rateHz ?? demoRateHz });
  }
  out.write(
    table(
      ['method', 'success', 'return', 'backend', 'model', 'training curve'],
      [['expert operator (scripted)', `${(expert.successRate * 100).toFixed(0)} %`, `${expert.meanReturn.toFixed(2)} ± ${expert.stdReturn.toFixed(2)}`, '', '', ''], ...learned.map((l) => [l.method, `${(l.success * 100).toFixed(0)} %`, l.ret, l.backend, l.model, l.curve])],
    ),
  );
  out.write(`(${evalEpisodes} held-out ${scenes}, the same for every row; npm run bench:learn runs the full comparison: both arms, three mixes, three seeds)\n`);

  out.write('\n# 5b. Iterated RWR: roll out, score, add to the data, retrain\n');
  const rounds = await runImproveDemo({ runDir, data: demosFile, seed, evalSeed: evalAt.seed, evalEpisodes, fast: options.fast, out });

  const best = [...learned].sort((a, b) => b.success - a.success || b.meanReturn - a.meanReturn)[0]!;
  out.write(`\n# 6. Deployment: ${best.method}, the best policy, in the real-time loop on the simulated follower at its own rate, ${best.rateHz} Hz (ONNX → SafetyFilter → servos)\n`);
  const deployLog = join(runDir, 'deploy-run.mcap');
  const deployEpisodes = options.fast ? 2 : 10;
  const dep = await deploySim({ arm: 'so101', task, model: best.model, rateHz: best.rateHz, durationS: deployEpisodes * taskEpisodeS + (deployEpisodes - 1) * RETURN_S, episodeS: taskEpisodeS, returnS: RETURN_S, seed: 9 + seed, log: deployLog, estop: options.signal, realtimePriority: 50, say: (l) => out.write(l) });
  const sorted = (a: readonly number[]) => [...a].sort((x, y) => x - y);
  const depLate = percentile(sorted(dep.latenessUs), 99);
  const depInf = sorted(dep.inferenceUs);
  out.write(
    `${dep.cycles} cycles at ${dep.achievedHz.toFixed(1)} Hz (the model's rate ${best.rateHz}), lateness p99 ${depLate.toFixed(0)} µs, inference p50 ${percentile(depInf, 50).toFixed(0)} µs p99 ${percentile(depInf, 99).toFixed(0)} µs; ` +
      `${dep.successes}/${dep.episodes} ${done} in real time, the arm driven back to its start pose between episodes (${dep.returns.count} × ${dep.returns.returnS} s, not scored) (virtual-time evaluation: ${(best.success * 100).toFixed(0)} %); safety: ${describeSafety(dep.safety)}; run log ${deployLog}\n`,
  );

  out.write('\n# 7. Replay offline: the deployed policy against the recorded demonstrations of step 4\n');
  const replay = await replayAgainstPolicy(recordingFile, best.model, join(runDir, 'replay'));
  await writeFigureSvgs(replayJointFigures(replay), join(runDir, 'replay'));
  out.write(table(['joint', 'mean |error|', 'p95 |error|'], replay.joints.map((j) => [j.joint, j.meanAbs.toFixed(4), j.p95Abs.toFixed(4)])));
  out.write(`${replay.samples} samples; plots per joint in ${join(runDir, 'replay')}\n`);

  out.write('\n# 8. Replay to the arm: an episode of step 4 on a fresh simulated follower, and ROS 2\n');
  const armReplay = await runReplayDemo({ recordingFile, runDir, out, fast: options.fast, signal: options.signal });

  const jitter = (() => {
    const l = dep.latenessUs.slice(1);
    return sorted(l.slice(1).map((v, k) => Math.abs(v - l[k]!)));
  })();
  const meanErr = (replay.joints.reduce((a, j) => a + j.meanAbs, 0) / replay.joints.length).toFixed(4);
  out.write('\nSummary\n');
  const summaryHeader = ['stage', 'result', 'files'];
  const summaryRows = [
    ...buses.map((r) => [`bus ${r.arm} (${r.transport})`, `${r.servos} servos, ${r.achievedHz.toFixed(0)} Hz sync cycles, ${r.timeouts} timeouts`, '']),
    ['calibration so101 follower', 'homing offsets and ranges from the simulated hand', calibrationFile],
    ['teleop so101', `${teleop.achievedHz.toFixed(0)} Hz, lateness p99 ${percentile(late, 99).toFixed(0)} µs, tracking ${teleop.trackingErrorRad.toFixed(4)} rad, ${teleop.successes}/${teleop.episodes} targets`, ''],
    ['safety (leader unplugged)', safetyStop.startsWith('safety stop') ? 'follower held, then torque off; run ended with SafetyStopError' : safetyStop, ''],
    ['recording', `${inspected.episodes.length} episodes, ${inspected.episodes.filter((e) => e.outcome === 'success').length} successful, ${inspected.episodes.reduce((a, e) => a + e.droppedCycles, 0)} dropped cycles`, recordingFile],
    [
      'dataset → LeRobot → back',
      `${dataset.episodes} episodes (split ${dataset.trainEpisodes.length} train / ${dataset.valEpisodes.length} val), ${dataset.frames} frames at ${dataset.fps} fps in ${dataset.units}, ${(dataset.lerobotBytes / 1024).toFixed(0)} KiB; round trip max error ${dataset.roundTripMaxErrorRad.toExponential(1)} rad, boundaries ${dataset.boundariesMatch ? 'identical' : 'DIFFER'}`,
      `${dataset.lerobotDir}, ${dataset.importedFile}`,
    ],
    ['task (steps 4–8)', task === 'reach' ? 'reach: bring the tool to a target and hold it' : 'pick-place: pick up the cube and put it on the goal (the bin)', ''],
    ['expert operator (scripted)', `${(expert.successRate * 100).toFixed(0)} % success on ${evalEpisodes} held-out ${scenes}, return ${expert.meanReturn.toFixed(2)} ± ${expert.stdReturn.toFixed(2)}`, ''],
    ...learned.map((l) => [`policy ${l.method}`, `${(l.success * 100).toFixed(0)} % success on ${evalEpisodes} held-out ${scenes}, return ${l.ret}`, `${l.model}, ${l.curve}`]),
    ['iterated RWR', rounds.map((r) => `round ${r.round} ${(r.eval.successRate * 100).toFixed(0)} %`).join(', '), join(runDir, 'improve')],
    [
      'deploy (best policy)',
      `${best.method}: ${dep.achievedHz.toFixed(0)} Hz asked ${best.rateHz} (${dep.thread} thread, ${dep.realtime?.granted ? 'SCHED_FIFO' : 'normal priority'}), period jitter p50 ${percentile(jitter, 50).toFixed(0)} p99 ${percentile(jitter, 99).toFixed(0)} µs, inference p50 ${percentile(depInf, 50).toFixed(0)} µs, ${dep.successes}/${dep.episodes} ${done}`,
      deployLog,
    ],
    ['replay offline', `mean |error| over joints ${meanErr} rad on ${replay.samples} recorded samples`, `${join(runDir, 'replay')}/*.svg`],
    [
      `replay to arm (${armReplay.transport})`,
      armReplay.tracking ? `episode ${armReplay.episode} at ×${armReplay.speed}: tracking mean ${armReplay.tracking.meanAbsRad.toFixed(4)} rad, p95 ${armReplay.tracking.p95AbsRad.toFixed(4)} rad` : `episode ${armReplay.episode}: no tracking data`,
      armReplay.summaryFile,
    ],
    ['ROS 2', armReplay.ros.sourced ? `published ${armReplay.ros.published} messages` : 'not sourced here: the mapping layer ran without ROS', ''],
  ];
  out.write(table(summaryHeader, summaryRows));
  out.write(`plots: training curves ${learned.map((l) => l.curve).join(', ')}; replay ${join(runDir, 'replay')}/*.svg\n`);
  out.write(`every artefact of this run is in ${runDir} (summary.json has the figures above)\n`);
  await writeFile(
    join(runDir, 'summary.json'),
    JSON.stringify(
      {
        seed,
        task,
        buses,
        calibrationFile,
        teleop: { ...teleop, latenessUs: undefined, latencyUs: undefined },
        recordingFile,
        expert: { successRate: expert.successRate, meanReturn: expert.meanReturn, stdReturn: expert.stdReturn },
        policies: learned,
        deploy: { method: best.method, achievedHz: dep.achievedHz, thread: dep.thread, realtime: dep.realtime, jitterP99Us: percentile(jitter, 99), successes: dep.successes, episodes: dep.episodes, log: deployLog },
        replayOffline: { meanAbsRad: Number(meanErr), samples: replay.samples },
        replayToArm: { transport: armReplay.transport, tracking: armReplay.tracking },
        dataset,
      },
      null,
      2,
    ),
  );
  if (options.report !== false) {
    const report = await writeDemoReport({
      runDir,
      settings: { seed, task, fast: options.fast ?? false, 'bus seconds': options.seconds, 'rate Hz': options.rateHz, 'demonstrations (virtual time)': demoEpisodes, 'evaluation targets': evalEpisodes },
      summary: { header: summaryHeader, rows: summaryRows },
      methods: [{ method: 'expert operator', successRate: expert.successRate, episodes: expert.episodes.length, meanReturn: expert.meanReturn, stdReturn: expert.stdReturn }, ...trained.map((t) => ({ method: t.method, successRate: t.ev.successRate, episodes: t.ev.episodes.length, meanReturn: t.ev.meanReturn, stdReturn: t.ev.stdReturn }))],
      trained,
      rounds: rounds.map((r) => ({ method: `round ${r.round}`, successRate: r.eval.successRate, episodes: r.eval.episodes.length, meanReturn: r.eval.meanReturn, stdReturn: r.eval.stdReturn })),
      deploy: { method: best.method, log: deployLog, rateHz: best.rateHz },
      replay,
      reproduced: { file: recordingFile, episode: armReplay.episode, trajectory: armReplay.trajectory },
      links: [
        { label: 'summary (JSON)', path: join(runDir, 'summary.json') },
        { label: 'recording (MCAP, real time)', path: recordingFile },
        { label: 'demonstrations (MCAP, virtual time)', path: demosFile },
        ...learned.flatMap((l) => [{ label: `${l.method} model (ONNX)`, path: l.model }, { label: `${l.method} loss curve (SVG)`, path: l.curve }]),
        { label: 'deployment run log (MCAP)', path: deployLog },
        { label: 'calibration', path: calibrationFile },
        { label: 'LeRobot export', path: dataset.lerobotDir },
        { label: 'replay offline summary (JSON)', path: replay.summaryFile },
      ],
    });
    out.write(`report: ${report} (every figure, the summary and links to the files in one page)\n`);
  }
  return { runDir, buses, calibrationFile, teleop, recordingFile };
}
