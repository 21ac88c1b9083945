/** Single-key control from a terminal (raw mode): n next, r re-record, q/Esc stop, s/f labels. */
import type { ControlKey, EpisodeLabel } from '../record/record-session.ts';

export interface KeyControl {
  poll(): ControlKey | undefined;
  /** Resolves with the next s/f key (success/failure); undefined when the session ends first. */
  nextLabel(): Promise<EpisodeLabel | undefined>;
  close(): void;
}

export function terminalKeys(input: NodeJS.ReadStream = process.stdin, onInterrupt?: () => void): KeyControl | undefined {
  if (!input.isTTY) return undefined;
  const pending: ControlKey[] = [];
  const waiters: ((l: EpisodeLabel | undefined) => void)[] = [];
  input.setRawMode(true);
  input.resume();
  const onData = (d: Buffer) => {
    const k = d.toString();
    if (k === '\u0003') onInterrupt?.(); // Ctrl-C in raw mode
    else if (k === 'n' || k === '\u001b[C') pending.push('next');
    else if (k === 'r') pending.push('rerecord');
    else if (k === 'q' || k === '\u001b') pending.push('stop');
    else if (k === 's' || k === 'f') waiters.shift()?.({ outcome: k === 's' ? 'success' : 'failure' });
  };
  input.on('data', onData);
  return {
    poll: () => pending.shift(),
    nextLabel: () => new Promise((resolve) => waiters.push(resolve)),
    close: () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      for (const w of waiters.splice(0)) w(undefined);
    },
  };
}
