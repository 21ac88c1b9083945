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

/** A value handed to an API is outside what it accepts (programming or configuration error). */
export class InvalidArgumentError extends ArmbridgeError {
  constructor(message: string, options?: ErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}
