import type { CutSegment } from "../types.js";

/**
 * Segment indexes of a channel job are global across its lanes: lane 0's segments come first, then lane
 * 1's, and so on, each marked with its channel. The job's fan-in (every index 0..count-1 done) and every
 * per-segment key stay as they are; the stitcher splits the results by `channel` again.
 */
export function inLane(segment: CutSegment, channel: number | undefined, firstIndex: number): CutSegment {
  if (channel === undefined) return segment;
  return { ...segment, index: firstIndex + segment.index, channel };
}

/** The ffmpeg filter that takes one channel of the input as the mono signal (instead of `-ac 1`, a mixdown). */
export function channelFilter(channel: number): string {
  if (!Number.isInteger(channel) || channel < 0 || channel > 63) throw new Error(`bad channel ${channel}`);
  return `pan=mono|c0=c${channel}`;
}
