/**
 * Errors across the worker boundary. Structured clone keeps only an Error's message and stack, so
 * the worker sends name, code, message, stack and the error's own fields, and the main thread
 * rebuilds an instance of the same class (so `instanceof SafetyStopError` and exit codes work) or,
 * for a class it does not know, an ArmbridgeError with the same code and message.
 */
import { ArmbridgeError } from '../errors.ts';

export interface SerializedError {
  readonly name: string;
  readonly code: string | undefined;
  readonly message: string;
  readonly stack: string | undefined;
  readonly fields: Record<string, string | number | boolean | null>;
  readonly cause: SerializedError | undefined;
}

export function serializeError(e: unknown, depth = 0): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', code: undefined, message: String(e), stack: undefined, fields: {}, cause: undefined };
  const fields: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === 'code' || k === 'cause') continue;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  const code = (e as { code?: unknown }).code;
  return {
    name: e.name,
    code: typeof code === 'string' ? code : undefined,
    message: e.message,
    stack: e.stack,
    fields,
    cause: e.cause !== undefined && depth < 3 ? serializeError(e.cause, depth + 1) : undefined,
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructors of any arity
type ErrorClass = abstract new (...args: any[]) => Error;

export function reviveError(s: SerializedError, known: readonly ErrorClass[]): Error {
  const cls = known.find((c) => c.name === s.name);
  const cause = s.cause ? reviveError(s.cause, known) : undefined;
  let e: Error;
  if (cls) {
    // Same class, same fields, without re-running a constructor whose arguments we do not have.
    e = Object.create(cls.prototype) as Error;
    Object.defineProperty(e, 'message', { value: s.message, writable: true, configurable: true });
    Object.defineProperty(e, 'name', { value: s.name, writable: true, configurable: true });
    if (s.code !== undefined) Object.defineProperty(e, 'code', { value: s.code, enumerable: true, configurable: true });
    Object.assign(e, s.fields);
  } else if (s.code !== undefined) {
    e = new ArmbridgeError(s.code, s.message);
    Object.defineProperty(e, 'name', { value: s.name, writable: true, configurable: true });
  } else {
    e = new Error(s.message);
    e.name = s.name;
  }
  Object.defineProperty(e, 'stack', { value: s.stack ?? `${s.name}: ${s.message}`, writable: true, configurable: true });
  if (cause) Object.defineProperty(e, 'cause', { value: cause, writable: true, configurable: true });
  return e;
}
