/** The words an e-stop is reported with (SafetyFilter.estop, SafetyStopError), wherever the loop runs. */

/** What an e-stop says when nobody gave a reason: the keyboard's e-stop key. */
export const ESTOP_KEY_REASON = 'e-stop key';
/** What an e-stop signal (SIGINT / SIGTERM while a loop runs) says when it carries no reason of its own. */
export const ESTOP_SIGNAL_REASON = 'interrupted (Ctrl-C / SIGTERM)';

/** The reason an e-stop AbortSignal carries: its string reason, else the signal's. */
export function estopReasonOf(signal: AbortSignal): string {
  return typeof signal.reason === 'string' && signal.reason.length > 0 ? signal.reason : ESTOP_SIGNAL_REASON;
}
