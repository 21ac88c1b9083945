/**
 * The ROS 2 graph as the node logic sees it: a small port (publish, subscribe, offer a service, read
 * the clock, close). rclnodejs implements it in `rclnodejs.ts` (the only file that touches
 * rclnodejs); tests implement it in memory. Bridge, record and deploy are written against this
 * port only, so their logic runs and is tested without ROS 2.
 *
 * Messages are plain objects in rclnodejs's shape (snake_case fields, numeric arrays as arrays or
 * typed arrays). Subscriptions hand over `unknown`: the mapping layer checks what it reads.
 */

/** A QoS profile in ROS terms (rclnodejs builds its QoS object from it). */
export interface QosProfile {
  readonly reliability: 'reliable' | 'best_effort';
  readonly history: 'keep_last' | 'keep_all';
  readonly depth: number;
  readonly durability?: 'volatile' | 'transient_local';
}

export interface RosPublisher {
  /** Hands the message to the middleware; never waits. */
  publish(message: object): void;
}

/** std_srvs/srv/Trigger's response. */
export interface TriggerResponse {
  readonly success: boolean;
  readonly message: string;
}

export type TriggerHandler = () => TriggerResponse | Promise<TriggerResponse>;

export interface RosGraph {
  publisher(topic: string, type: string, qos: QosProfile): RosPublisher;
  /** `onMessage` runs on the graph's executor; it must not throw (the caller counts bad messages). */
  subscribe(topic: string, type: string, qos: QosProfile, onMessage: (message: unknown) => void): void;
  /** A std_srvs/srv/Trigger service. */
  service(name: string, type: 'std_srvs/srv/Trigger', handler: TriggerHandler): void;
  /** The node's clock (ROS time), ns. */
  now(): bigint;
  /** Destroys publishers, subscriptions, services and the node; idempotent. */
  close(): Promise<void>;
}
