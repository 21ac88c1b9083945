/**
 * The figures of a run report, as Vega-Lite specs built from plain numbers (no armbridge types:
 * workflows and the CLI hand in what they measured). Long series are thinned to a few thousand
 * points so reports stay small; statistics (percentiles, means) are computed on the full data by
 * the caller or here, never on the thinned copy.
 */
import type { Figure, TopLevelSpec } from './render.ts';

const WIDTH = 640;
const COLORS = { train: '#1f77b4', validation: '#d62728', recorded: '#1f77b4', predicted: '#d62728', reproduced: '#2ca02c', kept: '#555' } as const;

/** Evenly spaced indices, at most `max` of them, always including the last. */
function thinIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const step = (n - 1) / (max - 1);
  return Array.from({ length: max }, (_, k) => Math.round(k * step));
}

/** Sorted copy's percentile p (0…100), nearest rank. */
export function percentileOf(values: readonly number[], p: number): number {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export interface LossCurveInput {
  readonly title: string;
  readonly history: readonly { readonly epoch: number; readonly trainLoss: number; readonly valLoss: number }[];
  /** The epoch whose weights were kept. */
  readonly keptEpoch: number;
  /** Checkpoints scored on the simulated task: epoch and score (success rate, 0…1, plus a tiny return tie-break). */
  readonly selectionScores?: readonly { readonly epoch: number; readonly score: number }[];
  readonly keptReason?: string;
}

/** Training and validation loss per epoch (log scale), the kept checkpoint marked; below it, the selection scores when there are any. */
export function lossCurveFigure(id: string, input: LossCurveInput): Figure {
  const loss = input.history.flatMap((h) => [
    { epoch: h.epoch, loss: h.trainLoss, series: 'train' },
    { epoch: h.epoch, loss: h.valLoss, series: 'validation' },
  ]).filter((d) => Number.isFinite(d.loss) && d.loss > 0);
  const kept = [{ epoch: input.keptEpoch, label: `kept: epoch ${input.keptEpoch}` }];
  const keptRule = { data: { values: kept }, mark: { type: 'rule', color: COLORS.kept, strokeDash: [4, 3] }, encoding: { x: { field: 'epoch', type: 'quantitative' } } } as const;
  const keptLabel = {
    data: { values: kept },
    mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, y: 4, color: COLORS.kept, fontSize: 11 },
    encoding: { x: { field: 'epoch', type: 'quantitative' }, text: { field: 'label' } },
  } as const;
  const lossPanel = {
    width: WIDTH,
    height: 260,
    layer: [
      {
        data: { values: loss },
        mark: { type: 'line', point: loss.length <= 200 ? { size: 12 } : false },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { domainMin: 1 }, axis: { tickMinStep: 1 } },
          y: { field: 'loss', type: 'quantitative', title: 'loss (log scale)', scale: { type: 'log' } },
          color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['train', 'validation'], range: [COLORS.train, COLORS.validation] }, legend: { orient: 'top' } },
        },
      },
      keptRule,
      keptLabel,
    ],
  };
  const scores = (input.selectionScores ?? []).map((s) => ({ epoch: s.epoch, success: Math.round(s.score * 1000) / 10 }));
  const spec = (scores.length
    ? {
        title: input.title,
        spacing: 8,
        vconcat: [
          lossPanel,
          {
            width: WIDTH,
            height: 140,
            layer: [
              {
                data: { values: scores },
                mark: { type: 'line', point: true, color: '#9467bd' },
                encoding: {
                  x: { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { domainMin: 1 }, axis: { tickMinStep: 1 } },
                  y: { field: 'success', type: 'quantitative', title: 'success on selection targets (%)', scale: { domain: [0, 100] } },
                },
              },
              keptRule,
            ],
          },
        ],
      }
    : { title: input.title, ...lossPanel }) as TopLevelSpec;
  return {
    id,
    title: input.title,
    caption: `Loss per epoch, train (blue) and validation (red); the dashed line marks the kept checkpoint (${input.keptReason ?? `epoch ${input.keptEpoch}`}).${scores.length ? ' Below: success on the simulated selection targets at each scored checkpoint.' : ''}`,
    spec,
  };
}

export interface SuccessReturnRow {
  /** Method name or round label: the x axis, in the given order. */
  readonly label: string;
  /** Success rate 0…1 over `episodes`. */
  readonly success: number;
  readonly episodes: number;
  readonly meanReturn: number;
  readonly stdReturn: number;
}

/**
 * Success and return per method (or per round): bars with error bars. Success: ± one binomial
 * standard error (√(p(1−p)/n)); return: ± one standard deviation over episodes.
 */
export function successReturnFigure(id: string, title: string, rows: readonly SuccessReturnRow[], xTitle: string): Figure {
  const order = rows.map((r) => r.label);
  const data = rows.map((r) => {
    const se = Math.sqrt(Math.max(0, r.success * (1 - r.success)) / Math.max(1, r.episodes)) * 100;
    return {
      label: r.label,
      success: r.success * 100,
      successLo: Math.max(0, r.success * 100 - se),
      successHi: Math.min(100, r.success * 100 + se),
      ret: r.meanReturn,
      retLo: r.meanReturn - r.stdReturn,
      retHi: r.meanReturn + r.stdReturn,
      // Value labels above the error bar, and above zero for bars that hang below it.
      retLabel: Math.max(r.meanReturn + r.stdReturn, 0),
      episodes: r.episodes,
    };
  });
  const w = Math.max(160, Math.min(300, 48 * rows.length));
  const x = { field: 'label', type: 'nominal', title: xTitle, sort: order, axis: { labelAngle: rows.length > 4 || order.some((l) => l.length > 12) ? -30 : 0, labelLimit: 160 } } as const;
  const panel = (field: 'success' | 'ret', lo: string, hi: string, labelAt: string, yTitle: string, color: string, domain?: [number, number]) => ({
    width: w,
    height: 220,
    data: { values: data },
    layer: [
      { mark: { type: 'bar', color, opacity: 0.85 }, encoding: { x, y: { field, type: 'quantitative', title: yTitle, ...(domain ? { scale: { domain } } : {}) } } },
      { mark: { type: 'errorbar', ticks: { size: 10 } }, encoding: { x, y: { field: lo, type: 'quantitative', title: yTitle }, y2: { field: hi } } },
      { mark: { type: 'text', dy: -6, baseline: 'bottom', fontSize: 10 }, encoding: { x, y: { field: labelAt, type: 'quantitative' }, text: { field, type: 'quantitative', format: field === 'success' ? '.0f' : '.2f' } } },
    ],
  });
  return {
    id,
    title,
    caption: 'Bars: success rate (± one binomial standard error) and mean return (± one standard deviation over episodes).',
    spec: {
      title,
      hconcat: [panel('success', 'successLo', 'successHi', 'successHi', 'success (%)', '#4c78a8', [0, 100]), panel('ret', 'retLo', 'retHi', 'retLabel', 'return per episode', '#f58518')],
    } as TopLevelSpec,
  };
}

export interface TrajectoryInput {
  readonly joint: string;
  readonly unit: string;
  /** Time of each sample, s from the first. */
  readonly timeS: readonly number[];
  /** Series on the same time base, e.g. recorded, predicted, reproduced (NaN where absent). */
  readonly series: readonly { readonly name: string; readonly values: readonly number[] }[];
  /** Episode start times, s. */
  readonly episodeStartsS?: readonly number[];
}

/** One joint: recorded vs predicted (vs reproduced) over time, episode boundaries as vertical rules. */
export function trajectoryFigure(id: string, title: string, input: TrajectoryInput, maxPoints = 1500): Figure {
  const idx = thinIndices(input.timeS.length, maxPoints);
  const values = input.series.flatMap((s) => idx.map((i) => ({ t: input.timeS[i]!, v: s.values[i]!, series: s.name })).filter((d) => Number.isFinite(d.v)));
  const names = input.series.map((s) => s.name);
  const palette = names.map((n) => (n in COLORS ? COLORS[n as keyof typeof COLORS] : '#7f7f7f'));
  const starts = (input.episodeStartsS ?? []).map((t, k) => ({ t, label: `ep ${k}` }));
  const x = { field: 't', type: 'quantitative', title: 'time (s)', axis: { tickCount: 10 } } as const;
  const layers: object[] = [
    {
      data: { values },
      mark: { type: 'line', strokeWidth: 1.3, interpolate: 'linear' },
      encoding: {
        x,
        y: { field: 'v', type: 'quantitative', title: `${input.joint} (${input.unit})`, scale: { zero: false } },
        color: { field: 'series', type: 'nominal', title: null, scale: { domain: names, range: palette } },
      },
    },
  ];
  if (starts.length > 1) {
    layers.push({ data: { values: starts }, mark: { type: 'rule', color: '#aaa', strokeDash: [2, 3] }, encoding: { x } });
  }
  return {
    id,
    title,
    caption: `${names.join(' vs ')} for ${input.joint}${starts.length > 1 ? '; dotted grey lines: episode starts' : ''}.`,
    spec: { title, width: WIDTH, height: 200, layer: layers } as TopLevelSpec,
  };
}

/** A histogram with its p50 and p99 marked (values in `unit`). The axis stops at p99.9 so one stall does not flatten it. */
export function histogramFigure(id: string, title: string, values: readonly number[], unit: string, color = '#4c78a8'): Figure {
  const finite = values.filter(Number.isFinite);
  const p50 = percentileOf(finite, 50);
  const p99 = percentileOf(finite, 99);
  const top = percentileOf(finite, 99.9);
  const shown = finite.filter((v) => v <= top);
  const above = finite.length - shown.length;
  const marks = [
    { v: p50, label: `p50 ${p50.toPrecision(3)} ${unit}` },
    { v: p99, label: `p99 ${p99.toPrecision(3)} ${unit}` },
  ].filter((m) => Number.isFinite(m.v));
  const x = { field: 'v', type: 'quantitative', title: unit } as const;
  return {
    id,
    title,
    caption: `${finite.length} samples; dashed lines at p50 and p99${above ? `; ${above} above p99.9 (${top.toPrecision(3)} ${unit}) not shown` : ''}.`,
    spec: {
      title,
      width: WIDTH,
      height: 180,
      layer: [
        {
          data: { values: shown.map((v) => ({ v })) },
          mark: { type: 'bar', color, opacity: 0.85 },
          encoding: { x: { ...x, bin: { maxbins: 50 } }, y: { aggregate: 'count', type: 'quantitative', title: 'cycles' } },
        },
        { data: { values: marks }, mark: { type: 'rule', color: '#d62728', strokeDash: [4, 3] }, encoding: { x } },
        // One label per line, at different heights, so close p50 and p99 do not overprint.
        ...marks.map((m, k) => ({ data: { values: [m] }, mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, y: 4 + 14 * k, color: '#d62728', fontSize: 11 }, encoding: { x, text: { field: 'label' } } })),
      ],
    } as TopLevelSpec,
  };
}

export interface SafetyEvent {
  /** Seconds from the start of the run. */
  readonly tS: number;
  /** What the safety layer did, e.g. 'clamped', 'hold', 'fault'. */
  readonly kind: string;
}

/** Safety interventions over time: counts per time bin, stacked by kind (an empty run says so). */
export function safetyFigure(id: string, title: string, events: readonly SafetyEvent[], durationS: number): Figure {
  const binS = Math.max(0.1, Math.ceil((durationS / 60) * 10) / 10);
  const bins = new Map<string, { t: number; kind: string; count: number }>();
  for (const e of events) {
    const t = Math.floor(e.tS / binS) * binS;
    const key = `${t}|${e.kind}`;
    const b = bins.get(key) ?? { t, kind: e.kind, count: 0 };
    b.count++;
    bins.set(key, b);
  }
  const values = [...bins.values()];
  const x = { field: 't', type: 'quantitative', title: 'time (s)', scale: { domain: [0, Math.max(binS, durationS)] }, axis: { tickCount: 10 } } as const;
  const layers: object[] = values.length
    ? [{ data: { values }, mark: { type: 'bar', width: { band: 1 } }, encoding: { x: { ...x, bin: { binned: true, step: binS } }, x2: { field: 't2' }, y: { field: 'count', type: 'quantitative', title: `cycles per ${binS} s`, stack: 'zero' }, color: { field: 'kind', type: 'nominal', title: null } }, transform: [{ calculate: `datum.t + ${binS}`, as: 't2' }] }]
    : [
        { data: { values: [{ t: 0 }, { t: durationS }] }, mark: { type: 'rule', color: '#2ca02c' }, encoding: { x, y: { datum: 0, type: 'quantitative', title: `cycles per ${binS} s`, scale: { domain: [0, 1] } } } },
        { data: { values: [{ t: durationS / 2, label: `no safety interventions in ${durationS.toFixed(1)} s` }] }, mark: { type: 'text', color: '#2ca02c', fontSize: 13 }, encoding: { x, y: { datum: 0.5, type: 'quantitative' }, text: { field: 'label' } } },
      ];
  return {
    id,
    title,
    caption: `Cycles in which the safety filter changed the policy's command (clamped to limits or step-limited), held, or faulted, per ${binS} s; ${events.length} in all.`,
    spec: { title, width: WIDTH, height: 160, layer: layers } as TopLevelSpec,
  };
}
