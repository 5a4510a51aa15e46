import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ProviderClient } from "../../shared/provider/client.js";
import { parseProviderResponse } from "../../shared/provider/parse-response.js";
import { PermanentError, RetryableError } from "../../shared/errors.js";

type Reply = { status: number; body: string; headers?: Record<string, string> };

/** A scripted HTTP server: answers each request with the next reply, and records what it was sent. */
async function scriptedServer(replies: Reply[]) {
  const received: Array<{ url: string; auth?: string; body: string }> = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    received.push({ url: req.url ?? "", auth: req.headers.authorization, body: Buffer.concat(chunks).toString("latin1") });
    const reply = replies[Math.min(received.length - 1, replies.length - 1)];
    res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const ok = JSON.stringify({
  text: "hello there",
  language: "english",
  words: [
    { word: "hello", start: 0.5, end: 0.9, speaker_id: "SPEAKER_01" },
    { word: "there", start: 1.0, end: 1.3, speaker_id: "SPEAKER_00" },
  ],
  segments: [{ id: 0, start: 0.5, end: 1.3, text: "hello there" }],
});

const request = {
  audio: new Uint8Array([1, 2, 3]),
  filename: "segment.flac",
  audioSeconds: 10,
  model: "openai/whisper-large-v3",
  task: "transcribe" as const,
  diarize: true,
  minSpeakers: 2,
  maxSpeakers: 4,
  language: "en",
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

function client(url: string, waits: number[] = []) {
  return new ProviderClient({
    baseUrl: url,
    apiKey: async () => "secret-key",
    timeoutMs: 5000,
    maxAttempts: 3,
    backoffBaseMs: 10,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
}

describe("ProviderClient", () => {
  it("sends Together's multipart fields and parses words with speakers", async () => {
    // Prepare
    const server = await scriptedServer([{ status: 200, body: ok }]);
    close = server.close;

    // Act
    const answer = await client(server.url).transcribe(request);

    // Assess
    const sent = server.received[0];
    expect(sent.url).toBe("/v1/audio/transcriptions");
    expect(sent.auth).toBe("Bearer secret-key");
    for (const field of ["model", "response_format", "timestamp_granularities[]", "diarize", "min_speakers", "max_speakers", "language"]) {
      expect(sent.body).toContain(`name="${field}"`);
    }
    expect(sent.body).toContain("verbose_json");
    expect(answer.words?.map((w) => [w.word, w.speaker])).toEqual([["hello", "SPEAKER_01"], ["there", "SPEAKER_00"]]);
    expect(answer.speakers).toEqual(["SPEAKER_00", "SPEAKER_01"]);
  });

  it("retries 429 and 500, waiting at least Retry-After", async () => {
    // Prepare
    const server = await scriptedServer([
      { status: 429, body: JSON.stringify({ error: { message: "slow down" } }), headers: { "retry-after": "2" } },
      { status: 500, body: "{}" },
      { status: 200, body: ok },
    ]);
    close = server.close;
    const waits: number[] = [];

    // Act
    const answer = await client(server.url, waits).transcribe(request);

    // Assess
    expect(answer.text).toBe("hello there");
    expect(server.received).toHaveLength(3);
    expect(waits[0]).toBeGreaterThanOrEqual(2000);
    expect(waits).toHaveLength(2);
  });

  it("gives up after its budget with a retryable error", async () => {
    const server = await scriptedServer([{ status: 503, body: "{}" }]);
    close = server.close;
    await expect(client(server.url).transcribe(request)).rejects.toBeInstanceOf(RetryableError);
    expect(server.received).toHaveLength(3);
  });

  it.each([400, 401, 413])("fails at once on %i with the provider's message", async (status) => {
    const server = await scriptedServer([{ status, body: JSON.stringify({ error: { message: `nope ${status}`, type: "x" } }) }]);
    close = server.close;
    const error = await client(server.url).transcribe(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain(`nope ${status}`);
    expect(server.received).toHaveLength(1);
  });

  it("uses /audio/translations without diarization for translation", async () => {
    const server = await scriptedServer([{ status: 200, body: ok }]);
    close = server.close;
    await client(server.url).transcribe({ ...request, task: "translate" });
    expect(server.received[0].url).toBe("/v1/audio/translations");
    expect(server.received[0].body).not.toContain('name="diarize"');
  });
});

describe("parseProviderResponse", () => {
  it("accepts text-only answers (Voxtral)", () => {
    const answer = parseProviderResponse(JSON.stringify({ text: "just text" }), 12);
    expect(answer.words).toBeNull();
    expect(answer.spans).toEqual([{ start: 0, end: 12, text: "just text" }]);
  });

  it("reads words from speaker_segments when words are missing", () => {
    const body = JSON.stringify({
      text: "a b",
      speaker_segments: [{ speaker_id: "SPEAKER_00", start: 0, end: 1, words: [{ word: "a", start: 0.1, end: 0.3 }, { word: "b", start: 0.5, end: 0.7 }] }],
    });
    expect(parseProviderResponse(body, 5).words?.map((w) => w.speaker)).toEqual(["SPEAKER_00", "SPEAKER_00"]);
  });

  it("repairs negative and reversed times and drops words far outside the audio", () => {
    const body = JSON.stringify({
      text: "a b c",
      words: [
        { word: "a", start: -0.2, end: 0.3 },
        { word: "b", start: 2.0, end: 1.5 },
        { word: "c", start: 99, end: 100 },
      ],
    });
    const words = parseProviderResponse(body, 10).words!;
    expect(words.map((w) => [w.word, w.start, w.end])).toEqual([["a", 0, 0.3], ["b", 1.5, 2.0]]);
  });

  it("treats invalid JSON as retryable", () => {
    expect(() => parseProviderResponse("{ nope", 1)).toThrow(RetryableError);
  });
});
