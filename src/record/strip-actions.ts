/**
 * A state-only copy of a recording: the `/action` and `/leader/joint_states` messages of the chosen
 * episodes are left out, everything else is copied byte for byte. What a kinesthetic or `ros record`
 * recording of the same demonstrations would hold; used to measure learning from states alone on
 * exactly the same episodes (bench:learn) and to make mixed data (some episodes with actions, some without).
 */
import { episodesOf } from './episodes.ts';
import { assignEpisodes, channelsOf, readForEdit, type EditResult, type OutputOptions } from './edit.ts';
import { writeRecordingAtomic } from './rewrite.ts';

const COMMAND_TOPICS = new Set(['/action', '/leader/joint_states']);

/** `strip(index)` says which episodes lose their actions (default: all). */
export async function stripActions(input: string, output: string, strip: (episode: number) => boolean = () => true, options: OutputOptions = {}): Promise<EditResult & { readonly stripped: number }> {
  const rec = await readForEdit(input);
  const episodes = episodesOf(rec);
  const owner = assignEpisodes(rec, episodes);
  const kept = rec.messages.filter((m, i) => !COMMAND_TOPICS.has(m.topic) || owner[i] === undefined || !strip(owner[i]!));
  const stripped = episodes.filter((e) => strip(e.index)).map((e) => e.index);
  const metadata = new Map<string, ReadonlyMap<string, string>>(rec.metadata);
  metadata.set('armbridge.edit.strip_actions', new Map([['from', input], ['episodes_without_actions', stripped.join(',')]]));
  await writeRecordingAtomic(output, { profile: rec.profile, library: rec.library, metadata, channels: channelsOf(rec), messages: kept }, { overwrite: options.overwrite, inputs: [input] });
  return { output, episodesIn: episodes.length, episodesOut: episodes.length, messagesIn: rec.messages.length, messagesOut: kept.length, stripped: stripped.length };
}
