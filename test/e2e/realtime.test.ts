/**
 * The realtime gateway on the local stack: a generated conversation streamed through it (faster than real
 * time) with both upstreams, the ground-truth provider's HTTP API (VAD in the gateway) and its realtime
 * endpoint (relay); then the session must come back as a COMPLETED batch job with the true words and
 * speakers. A connection dropped mid-utterance loses nothing either.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { buildConversation, type Recording } from "../audio/conversation.js";
import { startHarness, type Harness } from "../support/harness.js";
import { scoreTranscript } from "../support/score.js";
import { wordErrorRate } from "../support/metrics.js";
import { startRealtimeProvider, type RealtimeProvider } from "../provider-realtime/server.js";
import { startLocalGateway } from "../../realtime/local.js";
import type { Gateway } from "../../realtime/gateway.js";
import { getSessionItem } from "../../realtime/session-recorder.js";
import { streamAudio, waitForSessionJob, type StreamResult } from "../../cli/stream.js";
import { sessionOn } from "../../cli/stack-session.js";
import { readOutput } from "../../cli/submit.js";
import type { Transcript } from "../../shared/domain/types.js";

const KEY = "gw-test-key";
let harness: Harness;
let realtimeProvider: RealtimeProvider;
let conversation: Recording;
const gateways: Gateway[] = [];

beforeAll(async () => {
  harness = await startHarness({ chunkSeconds: 30, overlapSeconds: 4, transcriberConcurrency: 8 });
  conversation = buildConversation({ seed: 46, voices: 2, durationSeconds: 40, style: "meeting" });
  harness.provider.addRecording(conversation);
  realtimeProvider = await startRealtimeProvider(harness.provider);
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await realtimeProvider?.close();
  await harness?.close();
});

async function gateway(options: Parameters<typeof startLocalGateway>[1]): Promise<Gateway> {
  const started = await startLocalGateway(harness.stack, { partSeconds: 5, ...options });
  gateways.push(started);
  return started;
}

function liveWords(result: StreamResult): string[] {
  return result.completed.flatMap((c) => c.transcript.split(/\s+/).filter(Boolean));
}

async function expectBatchJob(sessionId: string, truth: Recording) {
  const session = sessionOn(harness.stack);
  const job = await waitForSessionJob(session, sessionId, 120_000);
  expect(job.status, job.error).toBe("COMPLETED");
  expect(job.source.key).toBe(`realtime/${sessionId}.flac`);
  const transcript = JSON.parse(await readOutput(session, job, "verbose_json")) as Transcript;
  const score = scoreTranscript(truth, transcript);
  const item = await getSessionItem(harness.stack.clients.dynamo, harness.stack.resources.table, sessionId);
  return { job, transcript, score, item };
}

describe("realtime gateway on the local stack", () => {
  it("HTTP upstream (auto finds no realtime endpoint): live deltas and utterances, then a diarized batch job", async () => {
    // Prepare: the stack's provider is the HTTP-only ground-truth server.
    const gw = await gateway({ keys: [KEY], mode: "auto" });

    // Act
    const result = await streamAudio({ url: gw.url, key: KEY, samples: conversation.samples, speed: 6 });

    // Assess: the live side
    const created = result.events.find((e) => e.type === "session.created") as { session: { upstream: string } } | undefined;
    expect(created?.session.upstream).toBe("http");
    expect(result.errors).toEqual([]);
    expect(result.deltas).toBeGreaterThan(0);
    expect(result.completed.length).toBeGreaterThanOrEqual(4);
    expect(wordErrorRate(conversation.words.map((w) => w.word), liveWords(result))).toBe(0);
    for (const [i, c] of result.completed.entries()) {
      expect(c.end).toBeGreaterThan(c.start);
      if (i > 0) expect(c.start).toBeGreaterThanOrEqual(result.completed[i - 1].end);
    }
    // Every word of the truth falls inside the utterance that reported it (times are session times).
    const spans = result.completed.map((c) => [c.start, c.end]);
    expect(conversation.words.every((w) => spans.some(([a, b]) => a <= w.start + 0.02 && w.end <= b + 0.02))).toBe(true);

    // Assess: the session became a batch job like a dropped file
    const { score, item, job } = await expectBatchJob(result.sessionId, conversation);
    expect(score.wer).toBe(0);
    expect(score.speakers).toBe(2);
    expect(score.speakerAccuracy).toBeGreaterThanOrEqual(0.99);
    expect(item).toMatchObject({ status: "SUBMITTED", closeReason: "client_closed", jobId: job.jobId, upstream: "http" });
    expect(item!.audioSeconds).toBeCloseTo(conversation.duration, 1);
    expect(item!.utteranceCount).toBe(result.completed.length);
    // The live side's cost: pieces billed once each, not the utterance so far for every delta.
    expect(item!.livePartialRequests).toBeGreaterThan(0);
    expect(item!.liveRequests).toBeGreaterThan(item!.livePartialRequests!);
    expect(item!.liveAudioSecondsBilled).toBeGreaterThan(0.7 * conversation.duration);
    expect(item!.liveAudioSecondsBilled).toBeLessThanOrEqual(1.3 * conversation.duration);
  });

  it("realtime upstream (auto finds the provider's endpoint): relayed events with item ids and times, then the batch job", async () => {
    // Prepare
    const gw = await gateway({ keys: [KEY], mode: "auto", upstreamUrl: realtimeProvider.realtimeUrl });
    const before = realtimeProvider.stats().sessions;

    // Act
    const result = await streamAudio({ url: gw.url, key: KEY, samples: conversation.samples, speed: 6 });

    // Assess
    expect(realtimeProvider.stats().sessions).toBe(before + 1);
    const created = result.events.find((e) => e.type === "session.created") as { session: { upstream: string } } | undefined;
    expect(created?.session.upstream).toBe("realtime");
    expect(result.errors).toEqual([]);
    expect(result.deltas).toBeGreaterThan(0);
    expect(wordErrorRate(conversation.words.map((w) => w.word), liveWords(result))).toBe(0);
    expect(new Set(result.completed.map((c) => c.item_id)).size).toBe(result.completed.length);
    for (const c of result.completed) expect(c.end).toBeGreaterThan(c.start);
    const { score, item } = await expectBatchJob(result.sessionId, conversation);
    expect(score.wer).toBe(0);
    expect(score.speakers).toBe(2);
    expect(item).toMatchObject({ status: "SUBMITTED", upstream: "realtime" });
  });

  it("a connection dropped mid-utterance loses nothing: the session is submitted with every sample received", async () => {
    // Prepare
    const gw = await gateway({ keys: [KEY], mode: "http" });
    const ws = new WebSocket(gw.url, { headers: { Authorization: `Bearer ${KEY}`, "OpenAI-Beta": "realtime=v1" } });
    const sessionId = await new Promise<string>((resolve, reject) => {
      ws.on("message", (data) => {
        const event = JSON.parse(data.toString()) as { type: string; session?: { id: string } };
        if (event.type === "session.created") resolve(event.session!.id);
      });
      ws.on("error", reject);
    });
    // Cut inside a word, well into the conversation.
    const cutWord = conversation.words[Math.floor(conversation.words.length * 0.6)];
    const cut = Math.round(((cutWord.start + cutWord.end) / 2) * 16000);

    // Act: send in 0.5 s chunks, then drop the TCP connection without a close frame
    for (let at = 0; at < cut; at += 8000) {
      const chunk = conversation.samples.subarray(at, Math.min(cut, at + 8000));
      ws.send(JSON.stringify({ type: "input_audio_buffer.append", audio: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("base64") }));
    }
    // Frames are handled in order: once the answer to a bad marker event arrives, every append before it
    // was received. Then vanish without a close frame.
    const received = new Promise<void>((resolve) =>
      ws.on("message", (data) => {
        if ((JSON.parse(data.toString()) as { error?: { event_id?: string } }).error?.event_id === "marker") resolve();
      }),
    );
    ws.send(JSON.stringify({ type: "marker", event_id: "marker" }));
    await received;
    ws.terminate();

    // Assess
    const outcome = await waitFor(() => gw.outcome(sessionId));
    expect((await outcome).audioSeconds).toBeCloseTo(cut / 16000, 3);
    const truth = { words: conversation.words.filter((w) => w.end <= cutWord.start) };
    const { score, item, transcript } = await expectBatchJob(sessionId, conversation);
    expect(item).toMatchObject({ closeReason: "disconnected", status: "SUBMITTED" });
    expect(transcript.duration).toBeCloseTo(cut / 16000, 1);
    // Every word completely before the cut is in the job's transcript.
    const heard = transcript.words.map((w) => w.word);
    expect(wordErrorRate(truth.words.map((w) => w.word), heard.slice(0, truth.words.length))).toBe(0);
    expect(score.speakers).toBe(2);
  });
});

async function waitFor<T>(get: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
