import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { PutEventsCommand, type EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { JobRecord } from "./job-store.js";
import { isTerminal, type JobEventKind, type TerminalStatus } from "../domain/jobs/job-event.js";

/**
 * What subscribers receive when a job ends (`JOB_ENDED`), or when a completed job's transcript changed
 * (`TRANSCRIPT_CHANGED`: a speaker renamed; the outputs under `outputs` were written again). Never transcript
 * text: only where to find it. Speaker names are not transcript text, but a name is personal data: it travels
 * to subscribers, never into logs.
 */
export interface JobEvent {
  event: JobEventKind;
  jobId: string;
  /** CANCELLED: `stt cancel` (pipeline/cancel-job.ts); such a job lists no outputs. */
  status: TerminalStatus;
  source: { bucket: string; key: string; versionId?: string };
  outputs?: Record<string, string>;
  outputBucket?: string;
  duration?: number;
  speakers?: number;
  wordCount?: number;
  language?: string | null;
  /** Completed jobs: each language's speech (seconds, fraction), most first; absent when none was known. */
  languages?: JobRecord["languages"];
  /** Completed jobs: seconds of audio sent to the provider for the job, and its parts (see JobRecord). */
  audioSecondsBilled?: number;
  billing?: JobRecord["billing"];
  /** Lambda GB-seconds and invocations per stage (chunker, transcriber, stitcher), as the record held them. */
  lambda?: JobRecord["lambda"];
  /** What the job cost in dollars at the deployment's prices (provider, Lambda, total); see domain/jobs/cost-estimate.ts. */
  costUsd?: JobRecord["costUsd"];
  /** The estimate the job was admitted with, in dollars. */
  estimatedUsd?: number;
  /** The realtime session the recording came from, if it did. */
  realtimeSessionId?: string;
  /** Completed jobs: speaker label -> name, for the labels that have one. */
  speakerNames?: Record<string, string>;
  /** How many times the transcript changed since the job completed (TRANSCRIPT_CHANGED: this change's number). */
  transcriptRevision?: number;
  error?: string;
  errorCode?: string;
  completedAt?: string;
}

export function jobEventOf(job: JobRecord, outputBucket: string, event: JobEventKind = "JOB_ENDED"): JobEvent {
  return {
    event,
    jobId: job.jobId,
    // Only an ended job is announced; a record read mid-run (never published) reads as FAILED, as before.
    status: isTerminal(job.status) ? job.status : "FAILED",
    source: { bucket: job.source.bucket, key: job.source.key, versionId: job.source.versionId },
    outputs: job.outputs,
    outputBucket: job.outputs ? outputBucket : undefined,
    duration: job.duration,
    speakers: job.speakers?.length,
    wordCount: job.wordCount,
    language: job.language,
    languages: job.languages,
    audioSecondsBilled: job.audioSecondsBilled,
    billing: job.billing,
    lambda: job.lambda,
    costUsd: job.costUsd,
    estimatedUsd: job.costEstimate?.usd,
    realtimeSessionId: job.realtimeSessionId,
    speakerNames: job.status === "COMPLETED" ? (job.speakerNames ?? {}) : undefined,
    transcriptRevision: job.transcriptRevision,
    error: job.error,
    errorCode: job.errorCode,
    completedAt: job.completedAt,
  };
}

export interface NotifierTargets {
  topicArn: string;
  eventBusName?: string;
  eventSource: string;
  /** EventBridge detail-type of JOB_ENDED events. */
  detailType: string;
  /** EventBridge detail-type of TRANSCRIPT_CHANGED events. */
  transcriptChangedDetailType: string;
}

/**
 * Publishes a job event to SNS (with attributes to filter on: `jobId`, `status`, and `event`, so a
 * subscription that filters on `status` alone keeps receiving what it did, and one that wants job ends only
 * adds `event: ["JOB_ENDED"]`) and, where configured, to EventBridge, with the event's own detail-type.
 */
export class Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly events: EventBridgeClient | undefined,
    private readonly targets: NotifierTargets,
  ) {}

  async publish(event: JobEvent): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.targets.topicArn,
        Subject: event.event === "TRANSCRIPT_CHANGED" ? "Transcript changed" : `Transcription job ${event.status}`,
        Message: JSON.stringify(event),
        MessageAttributes: {
          jobId: { DataType: "String", StringValue: event.jobId },
          status: { DataType: "String", StringValue: event.status },
          event: { DataType: "String", StringValue: event.event },
        },
      }),
    );
    if (this.events && this.targets.eventBusName) {
      const out = await this.events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.targets.eventBusName,
              Source: this.targets.eventSource,
              DetailType: event.event === "TRANSCRIPT_CHANGED" ? this.targets.transcriptChangedDetailType : this.targets.detailType,
              Detail: JSON.stringify(event),
            },
          ],
        }),
      );
      if (out.FailedEntryCount) throw new Error(`EventBridge refused the job event: ${out.Entries?.[0]?.ErrorMessage ?? "unknown"}`);
    }
  }
}
