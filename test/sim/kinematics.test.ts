import { describe, expect, it } from 'vitest';
import { forwardKinematics } from '../../src/sim/kinematics.ts';

const deg = (d: number) => (d * Math.PI) / 180;

describe('forward kinematics from the public URDFs (ARMS.md §4 test vectors)', () => {
  it.each([
    ['T0 zero', [0, 0, 0, 0, 0], [0.3914, 0.0, 0.2265]],
    ['T1', [30, -45, 45, 30, 0], [0.2462, -0.1197, 0.1347]],
    ['T2', [-60, 20, -70, -40, 90], [0.1349, 0.1502, 0.4787]],
    ['T3 straight', [0, 76, -76, 0, 0], [0.4794, 0.0, 0.114]],
  ])('SO-101 %s', (_n, qDeg, expected) => {
    const p = forwardKinematics('so101', (qDeg as number[]).map(deg));
    p.forEach((v, i) => expect(v).toBeCloseTo((expected as number[])[i]!, 3));
  });

  it('Koch zero pose puts the tcp at (−0.0006, −0.1556, 0.0552)', () => {
    const p = forwardKinematics('koch', [0, 0, 0, 0, 0]);
    [-0.0006, -0.1556, 0.0552].forEach((v, i) => expect(p[i]).toBeCloseTo(v, 3));
  });
});
