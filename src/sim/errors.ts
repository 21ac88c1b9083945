/** Errors of the simulator's own configuration (not of the wire: a simulated servo answers the wire
 * with status bytes, never with exceptions). */
import { ArmbridgeError } from '../errors.ts';

/** A calibration cannot be mounted on the simulated arm (ids, ranges or the joint set do not fit). */
export class SimMountError extends ArmbridgeError {
  constructor(
    readonly joint: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super('SIM_MOUNT', `cannot mount the calibration on the simulated arm, joint ${joint}: ${reason}`, options);
  }
}
