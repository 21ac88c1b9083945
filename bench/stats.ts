/** Small statistics helpers for benchmarks. */
import { percentile } from '../src/workflows/stats.ts';

export { percentile };

export function summarize(samples: readonly number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

export interface BenchRow {
  readonly section: string;
  readonly case: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: { readonly name: string; readonly value: number };
  /** value / baseline (or baseline / value where lower is better), as printed. */
  readonly ratio?: number;
  readonly note?: string;
}

export function formatRows(rows: readonly BenchRow[]): string {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
  const cells = [
    ['section', 'case', 'metric', 'value', 'baseline (same run)', 'ratio', 'note'],
    ...rows.map((r) => [
      r.section,
      r.case,
      r.metric,
      `${fmt(r.value)} ${r.unit}`,
      r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)}` : '',
      r.ratio === undefined ? '' : r.ratio.toFixed(2),
      r.note ?? '',
    ]),
  ];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((v, c) => v.padEnd(widths[c]!)).join(' | ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.slice(1).map(line)].join('\n') + '\n';
}
