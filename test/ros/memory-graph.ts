/**
 * The one permitted fake: an in-memory ROS 2 graph implementing the RosGraph port, so the node
 * logic runs in tests without ROS 2. Delivery is asynchronous (next macrotask) and copies the
 * message, as a middleware would; QoS is recorded, not simulated.
 */
import type { QosProfile, RosGraph, RosPublisher, TriggerHandler, TriggerResponse } from '../../src/ros/graph.ts';

export interface Sent {
  readonly topic: string;
  readonly type: string;
  readonly message: unknown;
  readonly atMs: number;
}

export class MemoryGraph implements RosGraph {
  readonly sent: Sent[] = [];
  readonly qos = new Map<string, QosProfile>();
  readonly types = new Map<string, string>();
  readonly #subs = new Map<string, ((m: unknown) => void)[]>();
  readonly #services = new Map<string, TriggerHandler>();
  closed = false;

  publisher(topic: string, type: string, qos: QosProfile): RosPublisher {
    this.qos.set(`pub ${topic}`, qos);
    this.types.set(topic, type);
    return { publish: (message: object) => this.publish(topic, type, message) };
  }

  /** What any publisher (or the test) puts on a topic. */
  publish(topic: string, type: string, message: object): void {
    const copy = structuredClone(message);
    this.sent.push({ topic, type, message: copy, atMs: performance.now() });
    for (const cb of this.#subs.get(topic) ?? []) setImmediate(() => cb(structuredClone(copy)));
  }

  subscribe(topic: string, type: string, qos: QosProfile, onMessage: (message: unknown) => void): void {
    this.qos.set(`sub ${topic}`, qos);
    this.types.set(topic, type);
    this.#subs.set(topic, [...(this.#subs.get(topic) ?? []), onMessage]);
  }

  service(name: string, _type: 'std_srvs/srv/Trigger', handler: TriggerHandler): void {
    this.#services.set(name, handler);
  }

  async call(name: string): Promise<TriggerResponse> {
    const h = this.#services.get(name);
    if (!h) throw new Error(`no service ${name}`);
    return h();
  }

  messages(topic: string): unknown[] {
    return this.sent.filter((s) => s.topic === topic).map((s) => s.message);
  }

  now(): bigint {
    return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.#subs.clear();
  }
}
