/** Errors of the servo bus. Each names what happened, to which servo, and what to check. */
import { ArmbridgeError } from '../errors.ts';

export class ServoTimeoutError extends ArmbridgeError {
  constructor(
    readonly servoId: number,
    readonly waitedMs: number,
    options?: ErrorOptions & { attempts?: number },
  ) {
    const tries = options?.attempts && options.attempts > 1 ? ` (${options.attempts} attempts)` : '';
    super(
      'SERVO_TIMEOUT',
      `servo ${servoId} did not answer within ${waitedMs.toFixed(1)} ms${tries}: check power, cable, id and baud rate (armbridge scan --port …)`,
      options,
    );
  }
}

export class ChecksumError extends ArmbridgeError {
  constructor(
    readonly servoId: number,
    options?: ErrorOptions & { attempts?: number },
  ) {
    const tries = options?.attempts && options.attempts > 1 ? ` on all ${options.attempts} attempts` : '';
    super(
      'CHECKSUM_ERROR',
      `reply from servo ${servoId} arrived corrupted${tries}: check cable and connectors, bus power, and that only one program uses the port`,
      options,
    );
  }
}

export class ServoStatusError extends ArmbridgeError {
  constructor(
    readonly servoId: number,
    readonly errorByte: number,
    readonly conditions: readonly string[],
    readonly data?: Uint8Array,
    /** A hardware condition (overload, heat, voltage) rather than a refused instruction. */
    readonly hardware = true,
    options?: ErrorOptions,
  ) {
    super(
      'SERVO_STATUS',
      `servo ${servoId} reports ${conditions.join(', ') || `error 0x${errorByte.toString(16)}`}: ` +
        (hardware
          ? 'let it cool or unload it, check the supply voltage; hardware errors are cleared by a reboot or power cycle'
          : 'it refused the instruction: check the register, the value against its limits, and that torque is off for EEPROM writes'),
      options,
    );
  }
}

export class PortClosedError extends ArmbridgeError {
  constructor(
    readonly path: string,
    readonly reason: 'closed' | 'disconnected',
    options?: ErrorOptions,
  ) {
    super(
      reason === 'disconnected' ? 'PORT_DISCONNECTED' : 'PORT_CLOSED',
      reason === 'disconnected'
        ? `serial port ${path} disappeared: the USB cable was unplugged or the adapter lost power; reconnect it and start again`
        : `serial port ${path} is closed: open a new bus`,
      options,
    );
  }
}

export class PortOpenError extends ArmbridgeError {
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    const cause = options?.cause instanceof Error ? options.cause.message : String(options?.cause ?? '');
    const hint = /lock|busy|temporarily unavailable/i.test(cause)
      ? 'another program has it open (close it first)'
      : /permission|EACCES/i.test(cause)
        ? 'no permission: add yourself to the dialout group or run with sudo'
        : /no such file|ENOENT/i.test(cause)
          ? 'no such port: plug the adapter in, and list ports with `armbridge scan --list`'
          : 'check the path and the cable';
    super('PORT_OPEN_FAILED', `cannot open serial port ${path} (${cause}): ${hint}`, options);
  }
}

export class UnknownRegisterError extends ArmbridgeError {
  constructor(
    readonly register: string,
    readonly model: string,
    readonly servoId?: number,
  ) {
    super(
      'UNKNOWN_REGISTER',
      `servo model ${model}${servoId === undefined ? '' : ` (id ${servoId})`} has no register "${register}": check the name against its control table`,
    );
  }
}

export class RegisterValueError extends ArmbridgeError {
  constructor(
    readonly register: string,
    readonly value: number,
    options?: ErrorOptions,
  ) {
    super('REGISTER_VALUE', `value ${value} does not fit register ${register}`, options);
  }
}
