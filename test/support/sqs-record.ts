/** An SQS record as Lambda's event source mapping delivers it, for handler tests. */
import type { SQSRecord } from "aws-lambda";

export function sqsRecord(messageId: string, body: string, options: { queue?: string; receiveCount?: number; receiptHandle?: string } = {}): SQSRecord {
  return {
    messageId,
    receiptHandle: options.receiptHandle ?? "",
    body,
    attributes: { ApproximateReceiveCount: String(options.receiveCount ?? 1), SentTimestamp: "0", SenderId: "s", ApproximateFirstReceiveTimestamp: "0" },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${options.queue ?? "stt-segments"}`,
    awsRegion: "us-east-1",
  };
}
