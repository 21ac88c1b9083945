/** A report with one figure of every kind, from small synthetic runs (shared by the report tests). */
import { histogramFigure, lossCurveFigure, safetyFigure, successReturnFigure, trajectoryFigure } from '../../src/report/figures.ts';
import type { RunReport } from '../../src/report/html.ts';

export function everyFigureReport(): RunReport {
  const history = Array.from({ length: 40 }, (_, i) => ({ epoch: i + 1, trainLoss: 1 / (i + 1), valLoss: 1.2 / (i + 1) + 0.01 * i }));
  const t = Array.from({ length: 600 }, (_, i) => i / 100);
  const periodsMs = t.map((x, i) => 20 + 0.3 * Math.sin(37 * x) + (i === 100 ? 9 : 0));
  return {
    title: 'armbridge test run',
    subtitle: 'synthetic data',
    settings: { seed: 1, algo: 'bc', fast: true },
    figures: [
      lossCurveFigure('loss', { title: 'BC: loss per epoch', history, keptEpoch: 30, selectionScores: [10, 20, 30, 40].map((epoch) => ({ epoch, score: epoch / 50 })) }),
      successReturnFigure('methods', 'Success and return per method', [
        { label: 'expert operator', success: 0.9, episodes: 50, meanReturn: 20, stdReturn: 3 },
        { label: 'BC', success: 0.6, episodes: 50, meanReturn: 15, stdReturn: 5 },
      ], 'method'),
      successReturnFigure('rounds', 'Iterated RWR per round', [0, 1, 2].map((r) => ({ label: `round ${r}`, success: 0.5 + 0.1 * r, episodes: 100, meanReturn: 10 + r, stdReturn: 2 })), 'round'),
      trajectoryFigure('joint-shoulder_pan', 'shoulder_pan', {
        joint: 'shoulder_pan',
        unit: 'rad',
        timeS: t,
        series: [
          { name: 'recorded', values: t.map(Math.sin) },
          { name: 'predicted', values: t.map((x) => Math.sin(x) + 0.05) },
          { name: 'reproduced', values: t.map((x) => (x < 3 ? Math.sin(x - 0.1) : NaN)) },
        ],
        episodeStartsS: [0, 3],
      }),
      histogramFigure('period', 'Loop period', periodsMs, 'ms'),
      histogramFigure('inference', 'Inference latency', t.map((x) => 150 + 40 * Math.abs(Math.sin(11 * x))), 'µs'),
      safetyFigure('safety', 'Safety interventions', [{ tS: 1, kind: 'clamped' }, { tS: 1.1, kind: 'clamped' }, { tS: 4, kind: 'hold' }], 6),
    ],
    tables: [{ title: 'Result', header: ['method', 'success'], rows: [['BC', '60 %']] }],
    links: [{ label: 'model', path: 'model/policy.onnx' }],
    data: { seed: 1 },
  };
}
