/**
 * The `--no-report` option every run command shares, and writing `report.html` from a command.
 * The report module (vega) is imported only when a report is written, so `--help` stays instant.
 */
import { z } from 'zod';
import type { RunReport } from '../report/html.ts';

export const noReportOption = z.boolean().default(false).describe("Do not write report.html (the run's figures, settings, summary and links in one self-contained page) into the run folder");

/** Writes the report and says where it is on `say`. */
export async function writeRunReport(path: string, report: RunReport, say: NodeJS.WritableStream): Promise<string> {
  const { writeReport } = await import('../report/html.ts');
  await writeReport(path, report);
  say.write(`report ${path}\n`);
  return path;
}

/** Options as report settings: the values the command ran with (functions and undefined left out). */
export function settingsOf(options: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined || typeof v === 'function') continue;
    out[k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean);
  }
  return out;
}
