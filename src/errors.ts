/**
 * The root of every error armbridge raises. Each subclass carries a stable `code` (for scripts and
 * exit codes), a message that says what to do, and the underlying `cause` when there is one.
 *
 * This module sits below every layer (DESIGN.md §2): any layer may import it, it imports nothing.
 */
export class ArmbridgeError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * Says where an armbridge error arose by prefixing its message with `where` ("follower on
 * /dev/ttyACM0: …"), once; class, code and cause stay, so callers still match on them. Other
 * errors pass unchanged. Returns the error, to be rethrown.
 */
export function namedError(e: unknown, where: string): unknown {
  if (e instanceof ArmbridgeError && !e.message.startsWith(`${where}: `)) e.message = `${where}: ${e.message}`;
  return e;
}

/** A value handed to an API is outside what it accepts (programming or configuration error). */
export class InvalidArgumentError extends ArmbridgeError {
  constructor(message: string, options?: ErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}
