/**
 * The only place that touches rclnodejs: loaded lazily, and only when ROS 2 is sourced. rclnodejs
 * needs a ROS 2 installation to build, so it is not a dependency here; install it beside ROS 2
 * (`npm install rclnodejs` after `source /opt/ros/<distro>/setup.bash`).
 *
 * `openRosGraph()` is the thin adapter from rclnodejs's API (init, Node, createPublisher,
 * createSubscription, createService, spin, destroy, shutdown) to the RosGraph port.
 */
import { RosUnavailableError } from './errors.ts';
import type { QosProfile, RosGraph, RosPublisher, TriggerHandler } from './graph.ts';

/** A QoS profile made by rclnodejs's own QoS class: opaque here, handed back to it unchanged. `Q` is
 * rclnodejs's QoS type when checked against its typings (test/interop/rclnodejs-types.test.ts). */
interface RclQosClass<Q> {
  new (history?: number, depth?: number, reliability?: number, durability?: number): Q;
  HistoryPolicy: { RMW_QOS_POLICY_HISTORY_KEEP_LAST: number; RMW_QOS_POLICY_HISTORY_KEEP_ALL: number };
  ReliabilityPolicy: { RMW_QOS_POLICY_RELIABILITY_RELIABLE: number; RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: number };
  DurabilityPolicy: { RMW_QOS_POLICY_DURABILITY_VOLATILE: number; RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL: number };
}
interface RclNode<Q> {
  createPublisher(type: string, topic: string, options?: { qos?: Q }): { publish(message: object): void };
  createSubscription(type: string, topic: string, options: { qos?: Q }, callback: (message: unknown) => void): unknown;
  createService(type: string, name: string, options: { qos?: Q }, callback: (request: unknown, response: { template: Record<string, unknown>; send(r: object): void }) => void): unknown;
  getClock(): { now(): { nanoseconds: bigint | number } };
  spin?(): void;
  destroy(): void;
}
/** The part of rclnodejs's API this adapter uses (rclnodejs ships its own, fuller typings, which it
 * is checked against). */
export interface Rclnodejs<Q = unknown> {
  init(): Promise<void>;
  Node: new (name: string) => RclNode<Q>;
  QoS: RclQosClass<Q>;
  spin(node: RclNode<Q>): void;
  shutdown(): void | Promise<void>;
  isShutdown?(): boolean;
}

export async function loadRclnodejs(env: NodeJS.ProcessEnv = process.env): Promise<Rclnodejs> {
  if (!env.ROS_DISTRO) throw new RosUnavailableError('ROS_DISTRO is not set');
  try {
    const name = 'rclnodejs';
    const mod = (await import(/* optional, lazy */ name)) as { default?: Rclnodejs } & Partial<Rclnodejs>;
    return (mod.default ?? mod) as Rclnodejs;
  } catch (e) {
    throw new RosUnavailableError(`rclnodejs could not be loaded: ${(e as Error).message}`, { cause: e });
  }
}

function toRclQos(rcl: Rclnodejs, q: QosProfile): unknown {
  const { HistoryPolicy: H, ReliabilityPolicy: R, DurabilityPolicy: D } = rcl.QoS;
  return new rcl.QoS(
    q.history === 'keep_all' ? H.RMW_QOS_POLICY_HISTORY_KEEP_ALL : H.RMW_QOS_POLICY_HISTORY_KEEP_LAST,
    q.depth,
    q.reliability === 'best_effort' ? R.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT : R.RMW_QOS_POLICY_RELIABILITY_RELIABLE,
    q.durability === 'transient_local' ? D.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL : D.RMW_QOS_POLICY_DURABILITY_VOLATILE,
  );
}

/** Initialises rclnodejs, creates the node and spins it. RosUnavailableError without ROS 2. */
export async function openRosGraph(nodeName: string, env: NodeJS.ProcessEnv = process.env): Promise<RosGraph> {
  const rcl = await loadRclnodejs(env);
  try {
    await rcl.init();
  } catch (e) {
    throw new RosUnavailableError(`rclnodejs.init() failed: ${(e as Error).message}`, { cause: e });
  }
  const node = new rcl.Node(nodeName);
  // rclnodejs ≥ 0.2x: node.spin(); older releases only have rclnodejs.spin(node).
  if (node.spin) node.spin();
  else rcl.spin(node);
  let closed: Promise<void> | undefined;
  return {
    publisher(topic: string, type: string, qos: QosProfile): RosPublisher {
      return node.createPublisher(type, topic, { qos: toRclQos(rcl, qos) });
    },
    subscribe(topic: string, type: string, qos: QosProfile, onMessage: (message: unknown) => void): void {
      node.createSubscription(type, topic, { qos: toRclQos(rcl, qos) }, onMessage);
    },
    service(name: string, type: 'std_srvs/srv/Trigger', handler: TriggerHandler): void {
      node.createService(type, name, {}, (_request, response) => {
        const reply = (r: { success: boolean; message: string }) => {
          const out = response.template;
          out.success = r.success;
          out.message = r.message;
          response.send(out);
        };
        Promise.resolve()
          .then(handler)
          .then(reply, (e: unknown) => reply({ success: false, message: (e as Error).message }));
      });
    },
    now(): bigint {
      return BigInt(node.getClock().now().nanoseconds);
    },
    close(): Promise<void> {
      closed ??= (async () => {
        try {
          node.destroy();
        } finally {
          if (!rcl.isShutdown?.()) await rcl.shutdown();
        }
      })();
      return closed;
    },
  };
}
