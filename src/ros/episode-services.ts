/**
 * Episode control over ROS 2: std_srvs/srv/Trigger services to start, stop and discard an episode
 * and the `/episode` events they write into a recording (the same JSON events `armbridge record`
 * writes, so `inspect`, `train` and `replay` read ROS recordings like any other). Shared by the
 * bridge and `ros record`. Not thread-safe by design: it lives on the thread of the graph's
 * executor. A loop on another thread (the bridge's worker) learns when an episode opened and closed
 * from `onTransition`, stamped like the events, and sorts its cycles by their own stamps.
 */
import type { EpisodeEvent } from '../record/episodes.ts';
import { wallNs, type Recorder, type Topic } from '../record/recorder.ts';
import type { RosGraph, TriggerResponse } from './graph.ts';
import { SERVICES, TYPES, type servicesUnder } from './mapping.ts';

export class EpisodeControl {
  readonly #recorder: Recorder | undefined;
  #topic: Topic | undefined;
  #index = -1;
  #open = false;
  #lastEndedDiscardable = false;
  readonly #onTransition: ((recording: boolean, stampNs: bigint) => void) | undefined;
  kept = 0;
  discarded = 0;

  /** `onTransition`: an episode opened (true) or closed (false) at `stampNs`, the stamp of its /episode event. */
  constructor(recorder: Recorder | undefined, onTransition?: (recording: boolean, stampNs: bigint) => void) {
    this.#recorder = recorder;
    this.#onTransition = onTransition;
  }

  /** Registers `/episode` in the recording and offers the three services on the graph. */
  async attach(graph: RosGraph, onEvent: (line: string) => void = () => undefined, services: ReturnType<typeof servicesUnder> = SERVICES): Promise<void> {
    if (this.#recorder) this.#topic = await this.#recorder.topic('/episode', 'std_msgs/msg/String');
    const say = (r: TriggerResponse) => (onEvent(r.message), r);
    graph.service(services.episodeStart, TYPES.trigger, () => say(this.start()));
    graph.service(services.episodeStop, TYPES.trigger, () => say(this.stop('next')));
    graph.service(services.episodeDiscard, TYPES.trigger, () => say(this.discard()));
  }

  /** An episode is open: the caller logs samples. */
  get recording(): boolean {
    return this.#open;
  }

  get index(): number {
    return this.#index;
  }

  start(detail?: Record<string, unknown>): TriggerResponse {
    if (!this.#recorder) return { success: false, message: 'not recording: start the node with --out FILE.mcap to record episodes' };
    if (this.#open) return { success: false, message: `episode ${this.#index} is already running: stop or discard it first` };
    this.#index++;
    this.#open = true;
    this.#lastEndedDiscardable = false;
    const t = wallNs(performance.now());
    this.#event({ event: 'start', episode: this.#index, operator: 'ros', detail }, t);
    this.#onTransition?.(true, t);
    return { success: true, message: `episode ${this.#index} started` };
  }

  stop(reason: 'next' | 'stop' | 'time'): TriggerResponse {
    if (!this.#open) return { success: false, message: 'no episode is running: call the episode/start service first' };
    this.#open = false;
    this.kept++;
    this.#lastEndedDiscardable = true;
    const t = wallNs(performance.now());
    this.#event({ event: 'end', episode: this.#index, reason }, t);
    this.#onTransition?.(false, t);
    return { success: true, message: `episode ${this.#index} ended (${this.kept} kept, ${this.discarded} discarded)` };
  }

  discard(): TriggerResponse {
    if (this.#open) {
      this.#open = false;
      this.discarded++;
      this.#event({ event: 'discard', episode: this.#index });
      const t = wallNs(performance.now());
      this.#event({ event: 'end', episode: this.#index, reason: 'stop' }, t);
      this.#onTransition?.(false, t);
      return { success: true, message: `episode ${this.#index} discarded while running` };
    }
    if (this.#lastEndedDiscardable) {
      this.#lastEndedDiscardable = false;
      this.kept--;
      this.discarded++;
      this.#event({ event: 'discard', episode: this.#index });
      return { success: true, message: `episode ${this.#index} discarded` };
    }
    return { success: false, message: 'no episode to discard' };
  }

  #event(e: EpisodeEvent, stampNs: bigint = wallNs(performance.now())): void {
    if (this.#recorder && this.#topic) this.#recorder.log(this.#topic, { data: JSON.stringify(e) }, stampNs);
  }
}
