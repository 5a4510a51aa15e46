import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SegmentMessage, StitchMessage } from "../pipeline/messages.js";

/**
 * The two work queues the steps feed: one message per segment (the chunker) and the stitch request (whoever
 * sees the job's last segment done). SQS here; in memory in the unit tests (test/support/memory-stores.ts).
 */
export interface WorkQueues {
  /** Queues the messages in the order given; throws when any of them could not be queued. */
  sendSegments(messages: SegmentMessage[]): Promise<void>;
  sendStitch(message: StitchMessage): Promise<void>;
}

/** SendMessageBatch takes at most 10 entries. */
export const SQS_BATCH = 10;

export class SqsWorkQueues implements WorkQueues {
  constructor(
    private readonly sqs: SQSClient,
    private readonly urls: { segmentsQueueUrl: string; stitchQueueUrl: string },
  ) {}

  async sendSegments(messages: SegmentMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += SQS_BATCH) {
      const batch = messages.slice(i, i + SQS_BATCH);
      const out = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.urls.segmentsQueueUrl,
          // The job as the message group: on a standard queue that makes it an SQS fair queue (2025), where one
          // job's backlog does not hold up the others' messages. fauxqs (1.9) accepts it and ignores it.
          Entries: batch.map((m) => ({ Id: String(m.segment.index), MessageBody: JSON.stringify(m), MessageGroupId: m.jobId })),
        }),
      );
      if (out.Failed?.length) throw new Error(`could not queue ${out.Failed.length} segment message(s): ${out.Failed[0]?.Message}`);
    }
  }

  async sendStitch(message: StitchMessage): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.urls.stitchQueueUrl, MessageBody: JSON.stringify(message) }));
  }
}
