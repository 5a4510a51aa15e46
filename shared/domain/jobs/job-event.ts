/**
 * What subscribers receive when a job ends, or when a completed job's transcript changes (a speaker renamed):
 * the SNS message body, the EventBridge event's `detail`, as a
 * schema: shared/adapters/notifier.ts builds the event from the job record, and whoever reads it (the CLI,
 * any subscriber written in TypeScript) parses it here instead of casting the JSON. Never transcript text:
 * only where to find it.
 */
import { z } from "zod";
import type { JobBilling } from "./job-billing.js";
import type { CostUsd, LambdaUsage } from "./cost-estimate.js";
import { issueText } from "../options/options.js";
import { languageShareSchema } from "../languages/language-shares.js";

/**
 * A job's states, in the order it moves through them: CHUNKING -> RUNNING -> COMPLETED, or FAILED or CANCELLED
 * (`stt cancel`, pipeline/cancel-job.ts) from any state before. A job that finds `maxRunningJobs` running waits
 * as QUEUED (cut meanwhile, nothing sent) and moves on to CHUNKING or RUNNING when it starts
 * (pipeline/schedule-jobs.ts).
 */
export const JOB_STATUSES = ["CHUNKING", "QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The states a job ends in: the ones a notification reports. A job never leaves one of them. */
export const TERMINAL_STATUSES = ["COMPLETED", "FAILED", "CANCELLED"] as const satisfies readonly JobStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/** The states a job can be cancelled from: the ones in which it still spends (decoding, provider requests). */
export const CANCELLABLE_STATUSES = ["CHUNKING", "QUEUED", "RUNNING"] as const satisfies readonly JobStatus[];

/** Whether the job has ended: no step spends on it any more (it is only notified, if that is still due). */
export function isTerminal(status: JobStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly JobStatus[]).includes(status);
}

/** A completed job's provider cost, as the job record and the notification carry it (domain/jobs/job-billing.ts). */
export const jobBillingSchema = z.object({
  segmentSeconds: z.number(),
  segmentRequests: z.number(),
  probeSeconds: z.number(),
  probeRequests: z.number(),
  overlapSeconds: z.number().optional(),
  retrySeconds: z.number().optional(),
  languageRetrySeconds: z.number().optional(),
  languageRetryRequests: z.number().optional(),
}) satisfies z.ZodType<JobBilling>;

/** A job's Lambda use per stage, and its cost in dollars (domain/jobs/cost-estimate.ts). */
const stageUsageSchema = z.object({ gbSeconds: z.number(), invocations: z.number() });
export const lambdaUsageSchema = z.object({
  chunker: stageUsageSchema.optional(),
  transcriber: stageUsageSchema.optional(),
  stitcher: stageUsageSchema.optional(),
}) satisfies z.ZodType<LambdaUsage>;
export const costUsdSchema = z.object({ provider: z.number(), lambda: z.number(), total: z.number() }) satisfies z.ZodType<CostUsd>;

/**
 * What a notification announces: a job's end, or a change to a completed job's transcript (a speaker
 * renamed: the outputs were written again). The SNS message attribute `event` carries it too.
 */
export const JOB_EVENT_KINDS = ["JOB_ENDED", "TRANSCRIPT_CHANGED"] as const;
export type JobEventKind = (typeof JOB_EVENT_KINDS)[number];

/** Unknown fields are dropped, not refused: a newer pipeline may say more than this reader knows. */
export const jobEventSchema = z.object({
  /** Absent in events published before there were two kinds: those were all job ends. */
  event: z.enum(JOB_EVENT_KINDS).default("JOB_ENDED"),
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
  /** Completed jobs: each language's speech, seconds and fraction, most first (absent when none was known). */
  languages: z.array(languageShareSchema).optional(),
  /** Completed jobs: seconds of audio sent to the provider for the job, and its parts. */
  audioSecondsBilled: z.number().optional(),
  billing: jobBillingSchema.optional(),
  /** Lambda GB-seconds and invocations per stage, as the record held them when the job ended. */
  lambda: lambdaUsageSchema.optional(),
  /** The job's cost in dollars at the deployment's prices (completed jobs: provider + Lambda). */
  costUsd: costUsdSchema.optional(),
  /** The estimate the job was admitted with, in dollars. */
  estimatedUsd: z.number().optional(),
  /** The realtime session the recording came from, if it did. */
  realtimeSessionId: z.string().optional(),
  /** Completed jobs: speaker label -> the person's name, for the labels that have one. */
  speakerNames: z.record(z.string(), z.string()).optional(),
  /** How many times the transcript changed since the job completed. */
  transcriptRevision: z.number().int().nonnegative().optional(),
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
