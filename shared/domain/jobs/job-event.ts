/**
 * What subscribers receive when a job ends (the SNS message body, the EventBridge event's `detail`), as a
 * schema: shared/adapters/notifier.ts builds the event from the job record, and whoever reads it (the CLI,
 * any subscriber written in TypeScript) parses it here instead of casting the JSON. Never transcript text:
 * only where to find it.
 */
import { z } from "zod";
import type { JobBilling } from "./job-billing.js";
import { issueText } from "../options/options.js";

/** A job's states, in the order it moves through them. */
export const JOB_STATUSES = ["CHUNKING", "RUNNING", "COMPLETED", "FAILED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The states a job ends in: the ones a notification reports. */
export const TERMINAL_STATUSES = ["COMPLETED", "FAILED"] as const satisfies readonly JobStatus[];

/** A completed job's provider cost, as the job record and the notification carry it (domain/jobs/job-billing.ts). */
export const jobBillingSchema = z.object({
  segmentSeconds: z.number(),
  segmentRequests: z.number(),
  probeSeconds: z.number(),
  probeRequests: z.number(),
}) satisfies z.ZodType<JobBilling>;

/** Unknown fields are dropped, not refused: a newer pipeline may say more than this reader knows. */
export const jobEventSchema = z.object({
  jobId: z.string().min(1),
  status: z.enum(TERMINAL_STATUSES),
  source: z.object({ bucket: z.string(), key: z.string(), versionId: z.string().optional() }),
  /** Output format -> key in `outputBucket`. */
  outputs: z.record(z.string(), z.string()).optional(),
  outputBucket: z.string().optional(),
  duration: z.number().optional(),
  /** How many speakers the transcript has. */
  speakers: z.number().optional(),
  wordCount: z.number().optional(),
  language: z.string().nullable().optional(),
  /** Completed jobs: seconds of audio sent to the provider for the job, and its parts. */
  audioSecondsBilled: z.number().optional(),
  billing: jobBillingSchema.optional(),
  /** The realtime session the recording came from, if it did. */
  realtimeSessionId: z.string().optional(),
  error: z.string().optional(),
  errorCode: z.string().optional(),
  completedAt: z.string().optional(),
});

export type JobEventMessage = z.output<typeof jobEventSchema>;

/** An SNS envelope (a queue subscribed without raw delivery) carries the event as text in `Message`. */
const snsEnvelopeSchema = z.object({ Type: z.literal("Notification"), Message: z.string() });
/** An EventBridge event (a rule's target) carries it as `detail`. */
const eventBridgeEnvelopeSchema = z.object({ "detail-type": z.string(), detail: z.unknown() });

export type ParsedJobEvent = { ok: true; event: JobEventMessage } | { ok: false; reason: string };

/**
 * Reads a job notification as a subscriber receives it: the event itself (SNS raw delivery), an SNS
 * envelope, or an EventBridge event. Never throws: a message that is not a job event says why, naming the
 * field, so a reader can skip it and say so.
 */
export function parseJobEvent(body: string): ParsedJobEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
    const sns = snsEnvelopeSchema.safeParse(json);
    if (sns.success) json = JSON.parse(sns.data.Message);
  } catch {
    return { ok: false, reason: "the notification is not JSON" };
  }
  const bridge = eventBridgeEnvelopeSchema.safeParse(json);
  const parsed = jobEventSchema.safeParse(bridge.success ? bridge.data.detail : json);
  return parsed.success ? { ok: true, event: parsed.data } : { ok: false, reason: `not a job event: ${issueText(parsed.error.issues[0])}` };
}
