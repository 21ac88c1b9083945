import { ArmbridgeError } from '../errors.ts';

/** A figure could not be rendered (a bad spec or data the plotting library refused). */
export class FigureRenderError extends ArmbridgeError {
  constructor(readonly figure: string, options?: ErrorOptions) {
    super('FIGURE_RENDER', `cannot render the figure "${figure}" (${(options?.cause as Error | undefined)?.message ?? 'unknown'}): this is a bug, please report it with the run's settings`, options);
  }
}

/** report.html could not be written. */
export class ReportWriteError extends ArmbridgeError {
  constructor(readonly path: string, options?: ErrorOptions) {
    super('REPORT_WRITE', `cannot write the run report ${path} (${(options?.cause as Error | undefined)?.message ?? 'unknown'}): check the folder, or pass --no-report`, options);
  }
}
