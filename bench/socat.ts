import { execFileSync } from 'node:child_process';

/** socat is on PATH (the pty rows need it). */
export function hasSocat(): boolean {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
