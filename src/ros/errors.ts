import { ArmbridgeError } from '../errors.ts';

export class RosUnavailableError extends ArmbridgeError {
  constructor(detail?: string, options?: ErrorOptions) {
    super(
      'ROS_UNAVAILABLE',
      `ROS 2 is not sourced: run \`source /opt/ros/<distro>/setup.bash\` (and install rclnodejs: npm install rclnodejs) before armbridge ros …${detail ? ` (${detail})` : ''}`,
      options,
    );
  }
}

export class RosCommandError extends ArmbridgeError {
  constructor(readonly topic: string, detail: string) {
    super('ROS_COMMAND', `command on ${topic} refused: ${detail}`);
  }
}

export class RosMessageError extends ArmbridgeError {
  constructor(readonly topic: string, detail: string) {
    super('ROS_MESSAGE', `message on ${topic} not understood: ${detail}; check the publisher's message type and joint names`);
  }
}
