/**
 * Single-key control from a terminal (raw mode): n next, r re-record, q stop (park), e or space
 * e-stop, s/f label the episode that just ended (or type a score and Enter). Ctrl-C in raw mode
 * calls `onInterrupt`.
 */
import type { ControlKey, EpisodeLabel } from '../record/record-session.ts';

export interface KeyControl {
  poll(): ControlKey | undefined;
  /**
   * Resolves with the next s/f key (success/failure), for the episode that just ended. A new
   * request (the next episode ended) or `done` leaves the previous one unlabelled.
   */
  nextLabel(done?: AbortSignal): Promise<EpisodeLabel | undefined>;
  close(): void;
}

export function terminalKeys(input: NodeJS.ReadStream = process.stdin, onInterrupt?: () => void): KeyControl | undefined {
  if (!input.isTTY) return undefined;
  const pending: ControlKey[] = [];
  const waiters: ((l: EpisodeLabel | undefined) => void)[] = [];
  input.setRawMode(true);
  input.resume();
  let digits = '';
  const onData = (d: Buffer) => {
    const k = d.toString();
    if (/^[0-9.-]$/.test(k)) {
      digits += k;
      return;
    }
    if ((k === '\r' || k === '\n') && digits) {
      const score = Number(digits);
      digits = '';
      if (Number.isFinite(score)) waiters.shift()?.({ outcome: 'score', score });
      return;
    }
    digits = '';
    if (k === '\u0003') onInterrupt?.(); // Ctrl-C in raw mode
    else if (k === 'n' || k === '\u001b[C') pending.push('next');
    else if (k === 'r') pending.push('rerecord');
    else if (k === 'q' || k === '\u001b') pending.push('stop');
    else if (k === 'e' || k === ' ') pending.push('estop');
    else if (k === 's' || k === 'f') waiters.shift()?.({ outcome: k === 's' ? 'success' : 'failure' });
  };
  input.on('data', onData);
  return {
    poll: () => pending.shift(),
    nextLabel: (done) =>
      new Promise((resolve) => {
        for (const w of waiters.splice(0)) w(undefined);
        if (done?.aborted) return resolve(undefined);
        waiters.push(resolve);
        done?.addEventListener('abort', () => {
          const i = waiters.indexOf(resolve);
          if (i >= 0) waiters.splice(i, 1);
          resolve(undefined);
        }, { once: true });
      }),
    close: () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      for (const w of waiters.splice(0)) w(undefined);
    },
  };
}
