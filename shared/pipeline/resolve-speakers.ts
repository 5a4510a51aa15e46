import type { JobOptions } from "../domain/options.js";
import type { SegmentResult } from "../domain/types.js";
import type { LinkResult } from "../domain/link-speakers.js";
import type { PipelineContext } from "./context.js";

export interface SpeakerResolution {
  index: number;
  label: string;
  /** The global speaker this local one is, or null for a voice not heard before. */
  global: string | null;
}

/**
 * Local speakers that no overlap links to a known voice. For now each is a
 * new speaker; the probe-clip resolver replaces this.
 */
export async function resolveUnlinkedSpeakers(
  _ctx: PipelineContext,
  _jobId: string,
  _results: SegmentResult[],
  linked: LinkResult,
  _options: JobOptions,
): Promise<SpeakerResolution[]> {
  return linked.unresolved.map((u) => ({ index: u.index, label: u.label, global: null }));
}
