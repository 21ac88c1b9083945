/**
 * A joint command that has passed the SafetyFilter. `Arm.write` only takes this type, so the
 * compiler guarantees that every write to an arm went through the filter.
 */
declare const safe: unique symbol;
export type SafeCommand = Float64Array & { readonly [safe]: true };

/** Only the SafetyFilter (and parking, which goes through it) may mint safe commands. */
export function markSafe(command: Float64Array): SafeCommand {
  return command as SafeCommand;
}
