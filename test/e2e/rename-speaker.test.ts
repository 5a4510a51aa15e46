/**
 * Speakers' names against the local stack's emulators (dynalite, fauxqs): the job table's conditional name
 * update and recent-jobs index, a rename's outputs in S3, and its TRANSCRIPT_CHANGED message on SNS with the
 * `event` attribute. No audio: the completed job is written as the stitcher would write it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { SubscribeCommand, UnsubscribeCommand } from "@aws-sdk/client-sns";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { startLocalStack, type LocalStack } from "../../local/stack.js";
import { groupUtterances } from "../../shared/domain/stitching/utterances.js";
import type { Transcript, TranscriptWord } from "../../shared/domain/types.js";
import { renameSpeaker } from "../../shared/pipeline/rename-speaker.js";
import { writeOutputs } from "../../shared/pipeline/stitch-job.js";

let stack: LocalStack;

beforeAll(async () => {
  // Nothing here reaches the provider.
  stack = await startLocalStack({ provider: { baseUrl: "http://127.0.0.1:9", apiKey: "unused" }, awsPort: 0, dynamodbPort: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

const words: TranscriptWord[] = [
  { word: "Hello", start: 0.5, end: 0.9, speaker_id: "SPEAKER_00" },
  { word: "there.", start: 1.0, end: 1.4, speaker_id: "SPEAKER_00" },
  { word: "Hi.", start: 3.0, end: 3.3, speaker_id: "SPEAKER_01" },
];
const transcript: Transcript = {
  text: "Hello there. Hi.",
  language: "en",
  duration: 4,
  words,
  segments: groupUtterances(words),
  speakers: ["SPEAKER_00", "SPEAKER_01"],
};

/** A job as the stitcher leaves it: COMPLETED, its outputs and utterances written. */
async function completedJob(jobId: string, createdAt: Date): Promise<void> {
  const { jobs } = stack.ctx;
  await jobs.create({ jobId, source: { bucket: "stt-input", key: `${jobId}.wav` }, options: {} }, createdAt);
  await jobs.markChunked(jobId, { segmentCount: 1, duration: 4 }, createdAt);
  const outputs = await writeOutputs(stack.ctx, { jobId, source: { bucket: "stt-input", key: `${jobId}.wav` } }, transcript);
  await jobs.putUtterances(jobId, transcript.segments);
  const billing = { segmentSeconds: 4, segmentRequests: 1, probeSeconds: 0, probeRequests: 0 };
  const done = await jobs.complete(
    jobId,
    { language: "en", speakers: transcript.speakers, wordCount: 3, outputs, duration: 4, audioSecondsBilled: 4, billing },
    createdAt,
  );
  expect(done).toBe(true);
}

async function outputText(jobId: string, file: string): Promise<string> {
  const out = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.resources.buckets.output, Key: `jobs/${jobId}/${file}` }));
  return out.Body!.transformToString();
}

describe("speaker names on the local stack", () => {
  it("renames a speaker through DynamoDB and S3, and announces it with the event attribute", async () => {
    // Prepare: a queue subscribed to the topic in envelopes, so the message attributes are visible
    const { sqs, sns } = stack.clients;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "rename-test-events" }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
    const sub = await sns.send(new SubscribeCommand({ TopicArn: stack.resources.topicArn, Protocol: "sqs", Endpoint: Attributes!.QueueArn! }));
    await completedJob("job-rename", new Date("2026-02-01T10:00:00.000Z"));

    // Act
    const record = await renameSpeaker(stack.ctx, "job-rename", "SPEAKER_01", "Grace Hopper");

    // Assess: record, outputs, utterances
    expect(record).toMatchObject({ speakerNames: { SPEAKER_01: "Grace Hopper" }, transcriptRevision: 1 });
    expect(await outputText("job-rename", "transcript.txt")).toBe("SPEAKER_00: Hello there.\nGrace Hopper: Hi.\n");
    expect(await outputText("job-rename", "transcript.vtt")).toContain("<v Grace Hopper>Hi.");
    // The viewer page in the output bucket embeds the outputs, so it follows the rename too.
    const page = await outputText("job-rename", "transcript.html");
    expect(page).toContain("Grace Hopper");
    expect((await stack.ctx.jobs.utterances("job-rename")).map((u) => u.speaker_name)).toEqual([undefined, "Grace Hopper"]);
    // ... the condition holds the speaker list and the state
    expect(await stack.ctx.jobs.setSpeakerName("job-rename", "SPEAKER_07", "Nobody", new Date())).toBeUndefined();
    // ... the notification: the event attribute beside status
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 10 }));
    const envelopes = (received.Messages ?? []).map((m) => JSON.parse(m.Body ?? "{}"));
    const changed = envelopes.find((e) => JSON.parse(e.Message).event === "TRANSCRIPT_CHANGED");
    expect(changed?.MessageAttributes).toMatchObject({ event: { Value: "TRANSCRIPT_CHANGED" }, status: { Value: "COMPLETED" } });
    await sns.send(new UnsubscribeCommand({ SubscriptionArn: sub.SubscriptionArn }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it("names a speaker of a job completed before the records had a name map", async () => {
    // Prepare
    await completedJob("job-legacy", new Date("2026-02-01T11:00:00.000Z"));
    await stack.clients.dynamo.send(
      new UpdateCommand({ TableName: stack.resources.table, Key: { pk: "JOB#job-legacy", sk: "JOB" }, UpdateExpression: "REMOVE speakerNames" }),
    );
    // Act
    const record = await renameSpeaker(stack.ctx, "job-legacy", "SPEAKER_00", "Ada");
    // Assess
    expect(record).toMatchObject({ speakerNames: { SPEAKER_00: "Ada" }, transcriptRevision: 1 });
    expect(await outputText("job-legacy", "transcript.txt")).toBe("Ada: Hello there.\nSPEAKER_01: Hi.\n");
  });

  it("lists recent jobs newest first through the index, filtered by state, across pages", async () => {
    // Prepare: 30 more jobs, newer than the completed ones, still CHUNKING
    for (let i = 0; i < 30; i++) {
      await stack.ctx.jobs.create({ jobId: `job-new-${i}`, source: { bucket: "stt-input", key: `new-${i}.wav` }, options: {} }, new Date(Date.UTC(2026, 2, 1, 0, 0, i)));
    }
    // Act
    const newest = await stack.ctx.jobs.recentJobs({ limit: 3 });
    const completed = await stack.ctx.jobs.recentJobs({ limit: 5, status: "COMPLETED" });
    // Assess
    expect(newest.map((j) => j.jobId)).toEqual(["job-new-29", "job-new-28", "job-new-27"]);
    expect(completed.map((j) => j.jobId)).toEqual(["job-legacy", "job-rename"]);
  });
});
