import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { buildConversation, encodeRecording, makeVideoWithoutAudio, type Recording } from "../audio/conversation.js";
import { startHarness, type Harness } from "../support/harness.js";
import { scoreTranscript } from "../support/score.js";
import { captionProblems, parseSrt, parseVtt } from "../support/caption-check.js";
import { subscribeToJobEvents, uploadRecording, waitForJob } from "../../cli/submit.js";
import { sessionOn } from "../../cli/stack-session.js";
import type { JobEvent } from "../../shared/adapters/notifier.js";
import { realtimeSessionKey } from "../../shared/adapters/job-store.js";
import type { Transcript } from "../../shared/domain/types.js";
import { wiring } from "../../shared/wiring.js";

let harness: Harness;
let conversation: Recording;

beforeAll(async () => {
  harness = await startHarness({ chunkSeconds: 30, overlapSeconds: 4, transcriberConcurrency: 8 });
  conversation = buildConversation({ seed: 21, voices: 3, durationSeconds: 190, style: "quick-turns" });
  harness.provider.addRecording(conversation);
});

afterAll(async () => {
  await harness?.close();
});

describe("a long recording, end to end on the local stack", () => {
  it("comes back as a diarized, word-timed transcript with every word once", async () => {
    // Prepare
    const file = join(harness.workDir, "meeting.mp3");
    await encodeRecording(conversation, file, "mp3");
    const events = await subscribeToJobEvents(sessionOn(harness.stack));
    harness.provider.resetStats();

    // Act
    const run = await harness.transcribe(file, {}, "verbose_json");
    const heardByProvider = harness.provider.stats();

    // Assess: the job and its transcript
    expect(run.code, run.stderr).toBe(0);
    const job = run.job!;
    expect(job.status).toBe("COMPLETED");
    expect(job.segmentCount).toBeGreaterThanOrEqual(5);
    const transcript = JSON.parse(run.stdout) as Transcript;
    const score = scoreTranscript(conversation, transcript);
    expect(score.wer).toBe(0);
    expect(score.meanStartError).toBeLessThanOrEqual(0.05);
    expect(score.speakerAccuracy).toBeGreaterThanOrEqual(0.99);
    expect(score.speakers).toBe(3);
    expect(job.speakers).toHaveLength(3);
    expect(job.wordCount).toBe(conversation.words.length);

    // Assess: what the job cost at the provider, which was heard by nobody else meanwhile
    const billing = job.billing!;
    expect(billing.segmentRequests).toBe(job.segmentCount);
    expect(billing.segmentSeconds).toBeGreaterThan(job.duration!);
    expect(job.audioSecondsBilled).toBeGreaterThanOrEqual(job.duration!);
    expect(job.audioSecondsBilled).toBeCloseTo(billing.segmentSeconds + billing.probeSeconds, 3);
    expect(billing.probeRequests + billing.segmentRequests).toBe(heardByProvider.requests);
    expect(Math.abs(job.audioSecondsBilled! - heardByProvider.audioSecondsBilled)).toBeLessThan(0.01);
    expect(run.stderr).toContain(`${job.audioSecondsBilled!.toFixed(1)} s of audio billed`);

    // Assess: the notification
    const heard: JobEvent[] = [];
    for (let i = 0; i < 5 && !heard.some((e) => e.jobId === job.jobId); i++) heard.push(...(await events.next(1)));
    await events.close();
    const event = heard.find((e) => e.jobId === job.jobId);
    expect(event).toMatchObject({ status: "COMPLETED", source: { key: job.source.key } });
    expect(Object.keys(event!.outputs ?? {}).sort()).toEqual(["html", "json", "srt", "text", "verbose_json", "vtt"]);
    expect(event).toMatchObject({ audioSecondsBilled: job.audioSecondsBilled, billing });

    // Assess: all five files are valid
    const read = async (format: string) => {
      const out = await harness.stack.clients.s3.send(
        new GetObjectCommand({ Bucket: harness.stack.resources.buckets.output, Key: job.outputs![format] }),
      );
      return out.Body!.transformToString();
    };
    expect(JSON.parse(await read("json"))).toEqual({ text: transcript.text });
    const text = await read("text");
    expect(text.trim().split("\n").length).toBeGreaterThan(3);
    const srt = parseSrt(await read("srt"));
    expect(captionProblems(srt)).toEqual([]);
    expect(srt.length).toBeGreaterThan(10);
    const vtt = parseVtt(await read("vtt"));
    expect(captionProblems(vtt, true)).toEqual([]);
    expect(vtt.length).toBe(srt.length);

    // Assess: utterances are queryable by job and time, the job by its source
    const utterances = await harness.stack.ctx.jobs.utterances(job.jobId);
    expect(utterances.length).toBe(transcript.segments.length);
    const firstMinute = await harness.stack.ctx.jobs.utterances(job.jobId, { from: 0, to: 60 });
    expect(firstMinute.length).toBeGreaterThan(0);
    expect(firstMinute.every((u) => u.start <= 60)).toBe(true);
    const bySource = await harness.stack.clients.dynamo.send(
      new QueryCommand({
        TableName: harness.stack.resources.table,
        IndexName: wiring.table.sourceIndex.name,
        KeyConditionExpression: "gsi1pk = :pk",
        ExpressionAttributeValues: { ":pk": `SOURCE#${job.source.bucket}/${job.source.key}` },
      }),
    );
    expect(bySource.Items?.map((i) => i.jobId)).toEqual([job.jobId]);
  });

  it("reports a realtime session's job and its cost on the session item, and never creates one", async () => {
    // Prepare: two gateway recordings; only the first session's item is still in the table
    const stack = sessionOn(harness.stack);
    const { dynamo } = harness.stack.clients;
    const table = harness.stack.resources.table;
    const [kept, expired] = ["sess_e2e0000000000000000000001", "sess_e2e0000000000000000000002"];
    await dynamo.send(new PutCommand({ TableName: table, Item: { ...realtimeSessionKey(kept), sessionId: kept, status: "SUBMITTED" } }));
    const recording = buildConversation({ seed: 5, voices: 2, durationSeconds: 24 });
    harness.provider.addRecording(recording);
    const file = join(harness.workDir, "session.flac");
    await encodeRecording(recording, file, "flac");

    // Act: one subscription per waiter (a waiter deletes the events it reads)
    const ended = await Promise.all(
      [kept, expired].map(async (sessionId) => {
        const events = await subscribeToJobEvents(stack);
        try {
          const { jobId } = await uploadRecording(stack, file, { "realtime-session": sessionId, language: "en" });
          return await waitForJob(stack, events, jobId, { timeoutMs: 120_000 });
        } finally {
          await events.close();
        }
      }),
    );
    const item = async (sessionId: string) =>
      (await dynamo.send(new GetCommand({ TableName: table, Key: realtimeSessionKey(sessionId), ConsistentRead: true }))).Item;

    // Assess
    for (const [i, sessionId] of [kept, expired].entries()) {
      const { job, event } = ended[i];
      expect(job.status, job.error).toBe("COMPLETED");
      expect(job.realtimeSessionId).toBe(sessionId);
      expect(job.audioSecondsBilled).toBeGreaterThanOrEqual(job.duration!);
      expect(event).toMatchObject({ realtimeSessionId: sessionId, audioSecondsBilled: job.audioSecondsBilled });
    }
    expect(await item(kept)).toMatchObject({
      status: "SUBMITTED",
      batchJobId: ended[0].job.jobId,
      batchAudioSecondsBilled: ended[0].job.audioSecondsBilled,
    });
    expect(await item(expired)).toBeUndefined();
  });

  it("fails files that are not audio with a one-line reason, a FAILED record and a notification", async () => {
    // Prepare
    const dir = harness.workDir;
    const mp3 = join(dir, "real.mp3");
    await encodeRecording(buildConversation({ seed: 3, voices: 2, durationSeconds: 20 }), mp3, "mp3");
    const bytes = (await import("node:fs")).readFileSync(mp3);
    const cases: Record<string, string> = {
      empty: join(dir, "empty.mp3"),
      text: join(dir, "notes.mp3"),
      truncated: join(dir, "truncated.mp3"),
      video: join(dir, "silent-video.mp4"),
    };
    writeFileSync(cases.empty, "");
    writeFileSync(cases.text, "These are meeting notes, not audio.\n".repeat(50));
    writeFileSync(cases.truncated, bytes.subarray(0, 300));
    await makeVideoWithoutAudio(cases.video, 3);

    // Act
    const runs = await Promise.all(Object.values(cases).map((file) => harness.transcribe(file, {}, "text")));

    // Assess
    for (const [i, name] of Object.keys(cases).entries()) {
      const run = runs[i];
      expect(run.code, name).not.toBe(0);
      expect(run.job?.status, name).toBe("FAILED");
      expect(run.job?.notifiedAt, name).toBeTruthy();
      const reason = run.job?.error ?? "";
      expect(reason.length, name).toBeGreaterThan(5);
      expect(reason, name).not.toContain("\n");
      expect(run.stderr, name).toContain("FAILED");
    }
  });
});
