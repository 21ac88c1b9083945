/**
 * The real rclnodejs adapter. Needs a sourced ROS 2 with rclnodejs installed (ROS_DISTRO set);
 * skipped (and counted as skipped) everywhere else.
 */
import { describe, expect, it } from 'vitest';
import { float64MultiArrayMessage, QOS, TYPES } from '../../src/ros/mapping.ts';
import { openRosGraph } from '../../src/ros/rclnodejs.ts';

describe.skipIf(!process.env.ROS_DISTRO)('rclnodejs adapter (needs ROS 2)', () => {
  it('publishes and receives a Float64MultiArray, serves a Trigger, reads the clock, closes', async () => {
    const graph = await openRosGraph(`armbridge_test_${process.pid}`);
    try {
      const topic = `/armbridge_test_${process.pid}/commands`;
      const got: unknown[] = [];
      graph.subscribe(topic, TYPES.float64MultiArray, QOS.command, (m) => got.push(m));
      const pub = graph.publisher(topic, TYPES.float64MultiArray, QOS.command);
      graph.service(`/armbridge_test_${process.pid}/trigger`, TYPES.trigger, () => ({ success: true, message: 'ok' }));
      const end = performance.now() + 5000;
      while (got.length === 0 && performance.now() < end) {
        pub.publish(float64MultiArrayMessage([1, 2, 3]));
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(Array.from((got[0] as { data: ArrayLike<number> }).data)).toEqual([1, 2, 3]);
      expect(graph.now()).toBeGreaterThan(0n);
    } finally {
      await graph.close();
    }
  }, 20_000);
});
