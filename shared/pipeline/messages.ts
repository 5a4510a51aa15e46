import { z } from "zod";
import { PermanentError } from "../errors.js";

/** One message per segment on the segments queue. */
export const segmentMessageSchema = z.object({
  kind: z.literal("segment"),
  jobId: z.string().min(1),
  index: z.number().int().nonnegative(),
  audioKey: z.string().min(1),
  segment: z.object({
    index: z.number().int().nonnegative(),
    start: z.number(),
    end: z.number(),
    ownStart: z.number(),
    ownEnd: z.number(),
  }),
});
export type SegmentMessage = z.infer<typeof segmentMessageSchema>;

/** "Every segment of this job is done": sent at least once, stitched exactly once. */
export const stitchMessageSchema = z.object({ kind: z.literal("stitch"), jobId: z.string().min(1) });
export type StitchMessage = z.infer<typeof stitchMessageSchema>;

/** A poison message is permanent by definition: retrying cannot make it parse. */
export function parseMessage<T>(schema: z.ZodType<T>, body: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PermanentError("bad_message", "queue message is not JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new PermanentError("bad_message", `queue message has the wrong shape: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Best effort: the job a malformed or dead-lettered message belonged to, if it names one. */
export function jobIdOf(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as { jobId?: unknown };
    return typeof json.jobId === "string" ? json.jobId : undefined;
  } catch {
    return undefined;
  }
}
