/**
 * Session audio is durable as it is acknowledged, and a session whose gateway died is still submitted: the
 * recorder and the orphan sweep against the local stack's emulators (fauxqs S3, dynalite), the batch
 * pipeline behind them, and the ground-truth provider. A small HTTP proxy in front of fauxqs holds or fails
 * chosen S3 requests, and counts them, so the tests see what reached S3 and when.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { buildConversation, type Recording } from "../audio/conversation.js";
import { startHarness, type Harness } from "../support/harness.js";
import { wordErrorRate } from "../support/metrics.js";
import { quietLog } from "../../local/stack.js";
import { startLocalGateway } from "../../realtime/local.js";
import { orphanSweeper } from "../../realtime/session-orphans.js";
import { S3SessionRecorder, getSessionItem, type S3RecorderOptions, type S3SessionRecording } from "../../realtime/session-recorder.js";
import { FLAC_HEADER_BYTES, flacSampleCount, listParts, sessionKeys, type SessionStoreOptions } from "../../realtime/session-submit.js";
import { LIVE_SESSION } from "../../realtime/session-table.js";
import { waitForSessionJob } from "../../cli/stream.js";
import { sessionOn } from "../../cli/stack-session.js";
import { readOutput } from "../../cli/submit.js";
import { ffmpegPaths } from "../../shared/audio/ffmpeg.js";
import type { Transcript } from "../../shared/domain/types.js";
import { wiring } from "../../shared/wiring.js";

const SR = 16_000;
let harness: Harness;
let conversation: Recording;
let proxy: S3Proxy;

beforeAll(async () => {
  harness = await startHarness({ chunkSeconds: 30, overlapSeconds: 4, transcriberConcurrency: 4 });
  conversation = buildConversation({ seed: 52, voices: 2, durationSeconds: 24, style: "meeting" });
  harness.provider.addRecording(conversation);
  proxy = await startS3Proxy(harness.stack.emulators.awsEndpoint);
});

afterAll(async () => {
  await proxy?.close();
  await harness?.close();
});

function store(s3: S3Client = harness.stack.clients.s3): SessionStoreOptions {
  return {
    s3,
    dynamo: harness.stack.clients.dynamo,
    table: harness.stack.resources.table,
    workBucket: harness.stack.resources.buckets.work,
    inputBucket: harness.stack.resources.buckets.input,
    sourceIndexName: wiring.table.sourceIndex.name,
    ffmpeg: ffmpegPaths().ffmpeg,
    log: quietLog,
    jobLinkTimeoutMs: 20_000,
  };
}

async function record(options: Partial<S3RecorderOptions> = {}): Promise<{ sessionId: string; recording: S3SessionRecording }> {
  const sessionId = `sess_${randomBytes(10).toString("hex")}`;
  const recorder = new S3SessionRecorder({ ...store(), partSeconds: 5, ...options });
  const recording = await recorder.start({ sessionId, model: "openai/whisper-large-v3", upstream: "http", keyId: "test", startedAt: new Date() });
  return { sessionId, recording };
}

/** The conversation's audio from `from` to `to` seconds, in 250 ms appends as a client sends it. */
function feed(recording: S3SessionRecording, from: number, to: number): void {
  for (let at = Math.round(from * SR); at < Math.round(to * SR); at += SR / 4) {
    recording.append(conversation.samples.subarray(at, Math.min(Math.round(to * SR), at + SR / 4)));
  }
}

const item = (sessionId: string) => getSessionItem(harness.stack.clients.dynamo, harness.stack.resources.table, sessionId);

async function inputObjectExists(sessionId: string): Promise<boolean> {
  try {
    await harness.stack.clients.s3.send(new HeadObjectCommand({ Bucket: harness.stack.resources.buckets.input, Key: sessionKeys.source(sessionId) }));
    return true;
  } catch {
    return false;
  }
}

async function liveSessionIds(): Promise<string[]> {
  const out = await harness.stack.clients.dynamo.send(
    new QueryCommand({
      TableName: harness.stack.resources.table,
      IndexName: wiring.table.liveSessionIndex.name,
      KeyConditionExpression: "gsi2pk = :live",
      ExpressionAttributeValues: { ":live": LIVE_SESSION },
    }),
  );
  return (out.Items ?? []).map((i) => i.sessionId as string);
}

async function partBytes(key: string): Promise<Uint8Array> {
  const out = await harness.stack.clients.s3.send(new GetObjectCommand({ Bucket: harness.stack.resources.buckets.work, Key: key }));
  return out.Body!.transformToByteArray();
}

const pcmOf = (from: number, to: number) => {
  const s = conversation.samples.subarray(Math.round(from * SR), Math.round(to * SR));
  return Buffer.from(s.buffer, s.byteOffset, s.byteLength);
};
const isPart = (sessionId: string) => (req: IncomingMessage) => req.method === "PUT" && (req.url ?? "").includes(`/sessions/${sessionId}/part-`);

describe("durable session audio", () => {
  it("durableThrough resolves only once the part holding that audio is in S3, and keeps the 5 s cadence after it", async () => {
    // Prepare: part writes go through the proxy, which holds them until released.
    const { sessionId, recording } = await record({ s3: proxy.client });
    proxy.rule = (req) => (isPart(sessionId)(req) ? "hold" : "pass");
    feed(recording, 0, 1.25);

    // Act
    let resolved = false;
    const durable = recording.durableThrough(1.25 * SR).then(() => (resolved = true));
    await proxy.waitForHeld(1);
    await new Promise((r) => setTimeout(r, 300));

    // Assess: held at the proxy, so not stored and not resolved.
    expect(resolved).toBe(false);
    expect(await listParts(store(), sessionId)).toEqual([]);
    proxy.rule = () => "pass";
    proxy.release();
    await durable;
    // The part holds exactly the 1.25 s that were asked for (STREAMINFO: sample count and MD5 of the samples).
    const first = await partBytes(sessionKeys.part(sessionId, 0));
    expect(flacSampleCount(first.subarray(0, FLAC_HEADER_BYTES))).toBe(1.25 * SR);
    expect(Buffer.from(first.subarray(26, 42)).toString("hex")).toBe(createHash("md5").update(pcmOf(0, 1.25)).digest("hex"));
    expect(await item(sessionId)).toMatchObject({ status: "STREAMING", audioSeconds: 1.25, partCount: 1, batchJob: true });
    expect((await item(sessionId))!.heartbeatAt).toBeGreaterThan(Date.now() - 10_000);

    // Act: 6 s more; without another durableThrough, the next part comes after 5 s of audio.
    feed(recording, 1.25, 7.25);
    await recording.durableThrough(6.25 * SR);
    expect(await listParts(store(), sessionId)).toEqual([0, 1].map((i) => sessionKeys.part(sessionId, i)));
    expect(flacSampleCount((await partBytes(sessionKeys.part(sessionId, 1))).subarray(0, FLAC_HEADER_BYTES))).toBe(5 * SR);
    const outcome = await recording.finish({ reason: "client_closed", endedAt: new Date(), utteranceCount: 0 });
    expect(outcome.status).toBe("SUBMITTED");
    expect((await item(sessionId))!.partCount).toBe(3);
    await waitForSessionJob(sessionOn(harness.stack), sessionId, 120_000);
  });

  it("keeps trying a part S3 refuses, and rejects only when storing keeps failing; the part is still stored later", async () => {
    // Prepare: S3 refuses the first two writes of the part.
    const { sessionId, recording } = await record({ s3: proxy.client, batchJob: false });
    let refusals = 0;
    proxy.rule = (req) => (isPart(sessionId)(req) && refusals++ < 2 ? "fail" : "pass");
    feed(recording, 0, 2);

    // Act / Assess: retried until stored.
    await recording.durableThrough(2 * SR);
    expect(refusals).toBe(3);
    expect(await listParts(store(), sessionId)).toHaveLength(1);

    // Act / Assess: S3 refuses every write now.
    proxy.rule = (req) => (isPart(sessionId)(req) ? "fail" : "pass");
    feed(recording, 2, 3);
    await expect(recording.durableThrough(3 * SR)).rejects.toThrow(/is not stored after 4 tries/);
    expect(await item(sessionId)).toMatchObject({ audioSeconds: 2 });

    // S3 is back: the queued part goes with the end.
    proxy.rule = () => "pass";
    const outcome = await recording.finish({ reason: "client_closed", endedAt: new Date(), utteranceCount: 0 });
    expect(outcome).toEqual({ status: "CLOSED", audioSeconds: 3 });
    expect(await listParts(store(), sessionId)).toHaveLength(2);
  });
});

describe("the batch switch", () => {
  it("off: the session ends CLOSED with its cost, its parts kept, nothing in the input bucket and no job", async () => {
    // Prepare
    const { sessionId, recording } = await record({ batchJob: false });
    feed(recording, 0, 7);

    // Act
    const outcome = await recording.finish({
      reason: "client_closed",
      endedAt: new Date(),
      utteranceCount: 2,
      live: { audioSecondsBilled: 7.5, requests: 6, partialRequests: 4 },
    });

    // Assess
    expect(outcome).toEqual({ status: "CLOSED", audioSeconds: 7 });
    const closed = await item(sessionId);
    expect(closed).toMatchObject({
      status: "CLOSED",
      batchJob: false,
      audioSeconds: 7,
      partCount: 2,
      utteranceCount: 2,
      closeReason: "client_closed",
      liveAudioSecondsBilled: 7.5,
      liveRequests: 6,
      livePartialRequests: 4,
    });
    expect(closed!.jobId).toBeUndefined();
    expect(closed!.source).toBeUndefined();
    expect(await inputObjectExists(sessionId)).toBe(false);
    expect(await listParts(store(), sessionId)).toHaveLength(2);
    expect(await liveSessionIds()).not.toContain(sessionId);
  });
});

describe("orphaned sessions", () => {
  it("a recording killed mid-session is found when a gateway starts and submitted as a job with all its durable audio", async () => {
    // Prepare: a recording whose clock is two minutes behind, so its heartbeats look a minute stale at once.
    const { sessionId, recording } = await record({ now: () => Date.now() - 120_000 });
    feed(recording, 0, 9);
    await recording.durableThrough(9 * SR);
    feed(recording, 9, 10); // received but never acknowledged durable: lost with the process
    recording.halt();
    expect(await item(sessionId)).toMatchObject({ status: "STREAMING", audioSeconds: 9, partCount: 2 });
    expect(await liveSessionIds()).toContain(sessionId);

    // Act: a gateway starts.
    const gateway = await startLocalGateway(harness.stack, { keys: ["k"], mode: "http" });
    const report = await gateway.orphanSweep;
    await gateway.close();

    // Assess: the session item, as a normal end leaves it
    expect(report?.ended[sessionId]).toMatchObject({ status: "SUBMITTED", audioSeconds: 9 });
    const ended = await item(sessionId);
    expect(ended).toMatchObject({ status: "SUBMITTED", closeReason: "orphaned", audioSeconds: 9, partCount: 2 });
    expect(Date.parse(ended!.endedAt!)).toBeLessThan(Date.now() - 100_000);
    expect(await liveSessionIds()).not.toContain(sessionId);
    // ... and the job: every word said before the acknowledged point, diarized.
    const session = sessionOn(harness.stack);
    const job = await waitForSessionJob(session, sessionId, 120_000);
    expect(job.status, job.error).toBe("COMPLETED");
    const transcript = JSON.parse(await readOutput(session, job, "verbose_json")) as Transcript;
    expect(transcript.duration).toBeCloseTo(9, 1);
    const said = conversation.words.filter((w) => w.end <= 9 - 0.3).map((w) => w.word);
    expect(wordErrorRate(said, transcript.words.map((w) => w.word).slice(0, said.length))).toBe(0);
  });

  it("two sweeps racing end it once, and its gateway coming back late submits nothing", async () => {
    // Prepare: a gateway stalled for two minutes (its heartbeats stale), not dead.
    proxy.rule = () => "pass";
    const { sessionId, recording } = await record({ now: () => Date.now() - 120_000, s3: proxy.client });
    feed(recording, 0, 6);
    await recording.durableThrough(6 * SR);
    const viaProxy = { ...harness.stack.ctx, clients: { ...harness.stack.ctx.clients, s3: proxy.client } };
    const uploads = () => proxy.seen.filter((r) => r.method !== "GET" && r.method !== "HEAD" && r.url.includes(sessionKeys.source(sessionId))).length;

    // Act: two scheduled sweeps at once, as two Lambda invocations would run them.
    const reports = await Promise.all([orphanSweeper(viaProxy)({ remainingMs: 900_000 }), orphanSweeper(viaProxy)({ remainingMs: 900_000 })]);

    // Assess: one ended it, the other did not; one upload.
    const enders = reports.filter((r) => r.ended[sessionId]);
    expect(enders).toHaveLength(1);
    expect(enders[0].ended[sessionId]).toMatchObject({ status: "SUBMITTED", audioSeconds: 6 });
    expect(uploads()).toBe(1);
    expect(await item(sessionId)).toMatchObject({ status: "SUBMITTED", closeReason: "orphaned", audioSeconds: 6, partCount: 2 });

    // Act: the stalled gateway comes back and ends the session itself.
    feed(recording, 6, 7);
    const late = await recording.finish({ reason: "client_closed", endedAt: new Date(), utteranceCount: 1 });

    // Assess: it was taken over; nothing submitted again, the item as the sweep left it.
    expect(late).toMatchObject({ status: "SUBMITTED", error: expect.stringMatching(/taken over/) });
    expect(uploads()).toBe(1);
    expect(await item(sessionId)).toMatchObject({ closeReason: "orphaned", audioSeconds: 6 });
    // Its late audio is stored all the same (parts stay in the work bucket).
    expect(await listParts(store(), sessionId)).toHaveLength(3);
    const job = await waitForSessionJob(sessionOn(harness.stack), sessionId, 120_000);
    expect(job.status).toBe("COMPLETED");
  });

  it("an orphan keeps its own batch switch: off ends CLOSED with no input object", async () => {
    // Prepare
    const { sessionId, recording } = await record({ now: () => Date.now() - 120_000, batchJob: false });
    feed(recording, 0, 3);
    await recording.durableThrough(3 * SR);
    recording.halt();

    // Act: this sweep's own side wants batch jobs; the session said no.
    const report = await orphanSweeper(harness.stack.ctx)({ remainingMs: 900_000 });

    // Assess
    expect(report.ended[sessionId]).toEqual({ status: "CLOSED", audioSeconds: 3 });
    expect(await item(sessionId)).toMatchObject({ status: "CLOSED", closeReason: "orphaned", audioSeconds: 3, partCount: 1 });
    expect((await item(sessionId))!.jobId).toBeUndefined();
    expect(await inputObjectExists(sessionId)).toBe(false);
  });

  it("a live session (heartbeat fresh) is left alone", async () => {
    // Prepare
    const { sessionId, recording } = await record();
    feed(recording, 0, 1);
    await recording.durableThrough(SR);

    // Act
    const report = await orphanSweeper(harness.stack.ctx)({ remainingMs: 900_000 });

    // Assess
    expect(report.ended[sessionId]).toBeUndefined();
    expect(report.skipped).not.toContain(sessionId);
    expect(await item(sessionId)).toMatchObject({ status: "STREAMING" });
    await recording.finish({ reason: "client_closed", endedAt: new Date(), utteranceCount: 0 });
  });
});

interface S3Proxy {
  client: S3Client;
  /** What happens to each request: forwarded, held until `release`, or refused with a 503. */
  rule: (req: IncomingMessage) => "pass" | "hold" | "fail";
  seen: Array<{ method: string; url: string }>;
  waitForHeld(count: number): Promise<void>;
  release(): void;
  close(): Promise<void>;
}

/** An HTTP proxy in front of fauxqs: S3 as the recorder sees it, with requests held or refused on demand. */
async function startS3Proxy(target: string): Promise<S3Proxy> {
  const held: Array<() => void> = [];
  const proxy: Omit<S3Proxy, "client" | "close"> = {
    rule: () => "pass",
    seen: [],
    async waitForHeld(count) {
      while (held.length < count) await new Promise((r) => setTimeout(r, 10));
    },
    release() {
      for (const forward of held.splice(0)) forward();
    },
  };
  const server: Server = createServer((req, res) => {
    proxy.seen.push({ method: req.method ?? "", url: req.url ?? "" });
    const forward = () => {
      const upstream = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", (error) => res.destroy(error));
      req.pipe(upstream);
    };
    const action = proxy.rule(req);
    if (action === "fail") {
      req.resume();
      res.writeHead(503, { "content-type": "application/xml" }).end("<Error><Code>SlowDown</Code><Message>refused by the test</Message></Error>");
    } else if (action === "hold") held.push(forward);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = new S3Client({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    forcePathStyle: true,
    // The recorder's own retries are under test, not the SDK's.
    maxAttempts: 1,
  });
  return Object.assign(proxy, {
    client,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
