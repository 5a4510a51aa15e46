import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { PutEventsCommand, type EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { JobRecord } from "./job-store.js";

/** What subscribers receive when a job ends. Never transcript text: only where to find it. */
export interface JobEvent {
  jobId: string;
  status: "COMPLETED" | "FAILED";
  source: { bucket: string; key: string; versionId?: string };
  outputs?: Record<string, string>;
  outputBucket?: string;
  duration?: number;
  speakers?: number;
  wordCount?: number;
  language?: string | null;
  /** Completed jobs: seconds of audio sent to the provider for the job, and its parts (see JobRecord). */
  audioSecondsBilled?: number;
  billing?: JobRecord["billing"];
  /** The realtime session the recording came from, if it did. */
  realtimeSessionId?: string;
  error?: string;
  errorCode?: string;
  completedAt?: string;
}

export function jobEventOf(job: JobRecord, outputBucket: string): JobEvent {
  return {
    jobId: job.jobId,
    status: job.status === "COMPLETED" ? "COMPLETED" : "FAILED",
    source: { bucket: job.source.bucket, key: job.source.key, versionId: job.source.versionId },
    outputs: job.outputs,
    outputBucket: job.outputs ? outputBucket : undefined,
    duration: job.duration,
    speakers: job.speakers?.length,
    wordCount: job.wordCount,
    language: job.language,
    audioSecondsBilled: job.audioSecondsBilled,
    billing: job.billing,
    realtimeSessionId: job.realtimeSessionId,
    error: job.error,
    errorCode: job.errorCode,
    completedAt: job.completedAt,
  };
}

export interface NotifierTargets {
  topicArn: string;
  eventBusName?: string;
  eventSource: string;
  detailType: string;
}

/** Publishes a job's end to SNS (with attributes to filter on) and, where configured, to EventBridge. */
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
        Subject: `Transcription job ${event.status}`,
        Message: JSON.stringify(event),
        MessageAttributes: {
          jobId: { DataType: "String", StringValue: event.jobId },
          status: { DataType: "String", StringValue: event.status },
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
              DetailType: this.targets.detailType,
              Detail: JSON.stringify(event),
            },
          ],
        }),
      );
      if (out.FailedEntryCount) throw new Error(`EventBridge refused the job event: ${out.Entries?.[0]?.ErrorMessage ?? "unknown"}`);
    }
  }
}
