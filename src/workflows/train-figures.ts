/** The training figure of a model: loss per epoch, the kept checkpoint, and the selection scores. */
import type { TrainResult } from '../learn/trainer.ts';
import { lossCurveFigure } from '../report/figures.ts';
import type { Figure } from '../report/render.ts';

export function trainLossFigure(id: string, label: string, result: Pick<TrainResult, 'history' | 'bestEpoch' | 'bestValLoss' | 'selectionScores'>): Figure {
  const scored = result.selectionScores.length > 0;
  return lossCurveFigure(id, {
    title: `${label}: loss per epoch`,
    history: result.history,
    keptEpoch: result.bestEpoch,
    selectionScores: result.selectionScores,
    keptReason: scored ? `epoch ${result.bestEpoch}, best success on the simulated selection targets` : `epoch ${result.bestEpoch}; the run's lowest validation loss was ${result.bestValLoss.toPrecision(3)}`,
  });
}
