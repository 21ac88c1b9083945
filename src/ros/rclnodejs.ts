/**
 * The only place that touches rclnodejs: loaded lazily, and only when ROS 2 is sourced. rclnodejs
 * needs a ROS 2 installation to build, so it is not a dependency here; install it beside ROS 2.
 */
import { RosUnavailableError } from './errors.ts';

export async function loadRclnodejs(env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  if (!env.ROS_DISTRO) throw new RosUnavailableError('ROS_DISTRO is not set');
  try {
    const name = 'rclnodejs';
    return await import(/* optional, lazy */ name);
  } catch (e) {
    throw new RosUnavailableError(`rclnodejs could not be loaded: ${(e as Error).message}`, { cause: e });
  }
}
