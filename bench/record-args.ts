/** The record section's options (`npm run bench -- --record-pairs N --record-rates …`), checked before any run. */

/** `--record-pairs`: a whole number of pairs, at least 1 (3 when not given). */
export function parseRecordPairs(text: string | undefined): number {
  const n = Number(text ?? 3);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bad --record-pairs ${text}: a whole number of pairs, at least 1`);
  return n;
}

/** `--record-rates`: positive rates in Hz, comma-separated (200,500,1000 when not given). */
export function parseRecordRates(text: string | undefined): number[] {
  const rates = (text ?? '200,500,1000').split(',').map(Number);
  if (rates.some((r) => !(r > 0))) throw new RangeError(`bad --record-rates ${text}: positive rates in Hz, comma-separated`);
  return rates;
}
