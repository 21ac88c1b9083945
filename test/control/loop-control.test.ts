import { describe, expect, it } from 'vitest';
import { ESTOP_KEY_REASON } from '../../src/arm/estop.ts';
import { LoopCommand, LoopControl } from '../../src/control/cycle-ring.ts';

describe('LoopControl (the stop / e-stop word between the main thread and the loop worker)', () => {
  it('carries the first e-stop reason to a reader of the same buffer; a stop never downgrades it', () => {
    const main = new LoopControl();
    const worker = new LoopControl(main.buffer);
    expect(worker.command()).toBe(LoopCommand.Run);
    main.send(LoopCommand.Stop);
    expect(worker.command()).toBe(LoopCommand.Stop);
    main.send(LoopCommand.Estop, 'e-stop requested over ROS (/armbridge/estop)');
    main.send(LoopCommand.Estop, 'a later one');
    main.send(LoopCommand.Stop);
    expect(worker.command()).toBe(LoopCommand.Estop);
    expect(worker.estopReason()).toBe('e-stop requested over ROS (/armbridge/estop)');
  });

  it("says the e-stop key's words when none is given, and cuts a long reason at a character boundary", () => {
    const a = new LoopControl();
    a.send(LoopCommand.Estop);
    expect(new LoopControl(a.buffer).estopReason()).toBe(ESTOP_KEY_REASON);
    const b = new LoopControl();
    b.send(LoopCommand.Estop, 'é'.repeat(200)); // 400 bytes of two-byte characters
    const got = new LoopControl(b.buffer).estopReason();
    expect(got).toBe('é'.repeat(got.length));
    expect(got.length).toBeGreaterThan(100);
  });

  it('refuses a buffer too small for the reason', () => {
    expect(() => new LoopControl(new SharedArrayBuffer(8))).toThrow(RangeError);
  });
});
