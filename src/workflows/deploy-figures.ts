/**
 * The deployment loop's figures from its run log (the MCAP that `deploy --log` writes): loop
 * period (from the cycles' wall-clock stamps), inference latency (/control/inference_us), and the
 * safety layer's interventions over time: cycles whose written command differs from the policy's
 * action (clamped or step-limited), and changes of the safety status away from ok (hold, fault).
 */
import { decodeMessage, readRecording } from '../record/read.ts';
import { histogramFigure, percentileOf, safetyFigure, type SafetyEvent } from '../report/figures.ts';
import type { Figure } from '../report/render.ts';

export interface DeployLogSeries {
  readonly periodsMs: number[];
  readonly inferenceUs: number[];
  readonly safetyEvents: SafetyEvent[];
  readonly durationS: number;
  readonly cycles: number;
}

/** Commands closer than this to the policy's action count as untouched (float32 round trip). */
const SAME_RAD = 1e-5;

export async function readDeployLog(path: string): Promise<DeployLogSeries> {
  const rec = await readRecording(path);
  const positions = (topic: string) => {
    const m = new Map<bigint, Float64Array>();
    for (const msg of rec.messages) if (msg.topic === topic) m.set(msg.logTimeNs, Float64Array.from(decodeMessage<{ position: ArrayLike<number> }>(rec, msg).position));
    return m;
  };
  const commands = positions('/action');
  const raw = positions('/policy/action');
  const stamps = [...commands.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const t0 = stamps[0] ?? 0n;
  const periodsMs = stamps.slice(1).map((t, k) => Number(t - stamps[k]!) / 1e6);
  const inferenceUs = rec.messages.filter((m) => m.topic === '/control/inference_us').map((m) => decodeMessage<{ data: number }>(rec, m).data);
  const safetyEvents: SafetyEvent[] = [];
  for (const t of stamps) {
    const a = raw.get(t);
    const c = commands.get(t)!;
    if (a && a.some((v, i) => !(Math.abs(v - c[i]!) <= SAME_RAD))) safetyEvents.push({ tS: Number(t - t0) / 1e9, kind: 'command changed (limits, step)' });
  }
  for (const m of rec.messages) {
    if (m.topic !== '/safety') continue;
    const status = (JSON.parse(decodeMessage<{ data: string }>(rec, m).data) as { status?: string }).status ?? 'unknown';
    if (status !== 'ok') safetyEvents.push({ tS: Number(m.logTimeNs - t0) / 1e9, kind: status });
  }
  const durationS = stamps.length ? Number(stamps[stamps.length - 1]! - t0) / 1e9 : 0;
  return { periodsMs, inferenceUs, safetyEvents, durationS, cycles: stamps.length };
}

export function deployFigures(s: DeployLogSeries, rateHz: number | undefined): Figure[] {
  return [
    histogramFigure('deploy-period', `Loop period${rateHz ? ` (asked ${(1000 / rateHz).toPrecision(3)} ms, ${rateHz} Hz)` : ''}`, s.periodsMs, 'ms'),
    histogramFigure('deploy-inference', 'Inference latency (ONNX, per cycle)', s.inferenceUs, 'µs', '#72b7b2'),
    safetyFigure('deploy-safety', 'Safety interventions over time', s.safetyEvents, s.durationS),
  ];
}

/** p50 / p99 rows for the summary table. */
export function deployTimingRows(s: DeployLogSeries): (string | number)[][] {
  const row = (name: string, v: readonly number[], unit: string) => [name, `${percentileOf(v, 50).toPrecision(4)} ${unit}`, `${percentileOf(v, 99).toPrecision(4)} ${unit}`, v.length];
  return [row('loop period', s.periodsMs, 'ms'), row('inference', s.inferenceUs, 'µs')];
}
