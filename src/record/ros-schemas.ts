/**
 * The ROS 2 message types a recording uses, as `ros2msg` schema text (the message definition
 * followed by its dependencies, separated the way rosbag2 does), with CDR writers and readers.
 * Only standard types, so `ros2 bag play` and Foxglove know every topic:
 *   sensor_msgs/msg/JointState  leader/follower states and the action sent
 *   geometry_msgs/msg/PoseStamped  the task's target
 *   std_msgs/msg/Float64, std_msgs/msg/Bool  reward, success
 *   std_msgs/msg/String  episode events (JSON text)
 */
import { parse } from '@foxglove/rosmsg';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';

const SEP = '================================================================================\n';

const TIME = 'int32 sec\nuint32 nanosec\n';
const HEADER = 'builtin_interfaces/Time stamp\nstring frame_id\n';

const dep = (name: string, text: string) => `${SEP}MSG: ${name}\n${text}`;

export const SCHEMAS = {
  'sensor_msgs/msg/JointState':
    'std_msgs/Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\nfloat64[] effort\n' +
    dep('std_msgs/Header', HEADER) +
    dep('builtin_interfaces/Time', TIME),
  'geometry_msgs/msg/PoseStamped':
    'std_msgs/Header header\ngeometry_msgs/Pose pose\n' +
    dep('std_msgs/Header', HEADER) +
    dep('builtin_interfaces/Time', TIME) +
    dep('geometry_msgs/Pose', 'geometry_msgs/Point position\ngeometry_msgs/Quaternion orientation\n') +
    dep('geometry_msgs/Point', 'float64 x\nfloat64 y\nfloat64 z\n') +
    dep('geometry_msgs/Quaternion', 'float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n'),
  'std_msgs/msg/Float64': 'float64 data\n',
  'std_msgs/msg/Bool': 'bool data\n',
  'std_msgs/msg/String': 'string data\n',
} as const;

export type SchemaName = keyof typeof SCHEMAS;

export interface RosTime {
  sec: number;
  nanosec: number;
}

export interface JointStateMsg {
  header: { stamp: RosTime; frame_id: string };
  name: string[];
  position: Float64Array | number[];
  velocity: Float64Array | number[];
  effort: Float64Array | number[];
}

export interface PoseStampedMsg {
  header: { stamp: RosTime; frame_id: string };
  pose: { position: { x: number; y: number; z: number }; orientation: { x: number; y: number; z: number; w: number } };
}

export function rosTime(ns: bigint): RosTime {
  return { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) };
}

export function fromRosTime(t: RosTime): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nanosec);
}

const writers = new Map<SchemaName, MessageWriter>();
const readers = new Map<string, MessageReader>();

export function cdrWriter(schema: SchemaName): MessageWriter {
  let w = writers.get(schema);
  if (!w) {
    w = new MessageWriter(parse(SCHEMAS[schema], { ros2: true }));
    writers.set(schema, w);
  }
  return w;
}

/** A CDR reader for any ros2msg schema text (cached by text). */
export function cdrReader(schemaText: string): MessageReader {
  let r = readers.get(schemaText);
  if (!r) {
    r = new MessageReader(parse(schemaText, { ros2: true }));
    readers.set(schemaText, r);
  }
  return r;
}
