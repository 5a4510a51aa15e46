import type { PipelineContext } from "./context.js";
import type { StitchMessage } from "./messages.js";

/**
 * Asks for a job's stitch. Sent at least once by whoever sees the last segment
 * done (a transcriber, or the chunker when the segments finished first); the
 * stitcher's lease makes the duplicates harmless.
 */
export async function sendStitch(ctx: PipelineContext, jobId: string): Promise<void> {
  const message: StitchMessage = { kind: "stitch", jobId };
  await ctx.queues.sendStitch(message);
}
