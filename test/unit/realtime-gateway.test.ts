/**
 * The gateway's edges, without AWS: an in-memory recorder and a stand-in provider client behind the real
 * HTTP upstream. Authentication, bad client messages, limits, idle sessions.
 */
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startGateway, type Gateway, type GatewayLimits } from "../../realtime/gateway.js";
import { MemoryRecorder } from "../../realtime/session-recorder.js";
import { upstreamFactories, DEFAULT_HTTP_UPSTREAM } from "../../realtime/upstream/select.js";
import type { ProviderClient } from "../../shared/provider/client.js";
import { quietLog } from "../../local/stack.js";

const KEY = "unit-key";
let gateway: Gateway | undefined;
let recorder: MemoryRecorder;

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

async function start(limits: Partial<GatewayLimits> = {}, http: Partial<typeof DEFAULT_HTTP_UPSTREAM> = {}): Promise<Gateway> {
  recorder = new MemoryRecorder();
  const provider = {
    transcribe: async (req: { audioSeconds: number }) => ({ text: `heard ${req.audioSeconds.toFixed(1)} s`, words: null, spans: [], speakers: [] }),
  } as unknown as ProviderClient;
  const factories = upstreamFactories({
    mode: "http",
    realtimeUrl: "ws://127.0.0.1:1/v1/realtime",
    apiKey: async () => "provider-key",
    provider,
    http: { ...DEFAULT_HTTP_UPSTREAM, ...http },
    connectTimeoutMs: 1000,
    recheckMs: 1000,
    log: quietLog,
  });
  gateway = await startGateway({
    port: 0,
    keys: async () => [KEY],
    defaultModel: "openai/whisper-large-v3",
    limits,
    recorder,
    openUpstream: factories.open,
    fallbackUpstream: factories.fallback,
    log: quietLog,
  });
  return gateway;
}

interface Client {
  ws: WebSocket;
  events: Array<Record<string, any>>;
  next(type: string): Promise<Record<string, any>>;
  closed: Promise<{ code: number; reason: string }>;
}

function connect(url: string, options: { key?: string; protocols?: string[]; query?: string } = {}): Promise<Client> {
  const ws = new WebSocket(url + (options.query ?? ""), options.protocols, options.key ? { headers: { Authorization: `Bearer ${options.key}` } } : {});
  const events: Client["events"] = [];
  const waiters: Array<{ type: string; resolve: (e: Record<string, any>) => void; from: number }> = [];
  let seen = 0;
  ws.on("message", (data) => {
    events.push(JSON.parse(data.toString()));
    for (const w of [...waiters]) {
      const hit = events.slice(w.from).find((e) => e.type === w.type);
      if (hit) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  const client: Client = {
    ws,
    events,
    closed,
    next: (type) =>
      new Promise((resolve) => {
        const hit = events.slice(seen).find((e) => e.type === type);
        if (hit) {
          seen = events.indexOf(hit) + 1;
          return resolve(hit);
        }
        waiters.push({ type, from: seen, resolve: (e) => ((seen = events.indexOf(e) + 1), resolve(e)) });
      }),
  };
  return new Promise((resolve, reject) => {
    ws.on("open", () => resolve(client));
    ws.on("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.on("error", reject);
  });
}

const tone = (seconds: number) => {
  const samples = new Int16Array(Math.round(seconds * 16000));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000) * (1 + 0.5 * Math.sin(i / 400)));
  return samples;
};
const append = (samples: Int16Array) => JSON.stringify({ type: "input_audio_buffer.append", audio: Buffer.from(samples.buffer).toString("base64") });

/** The server learns of a close a moment after the client does. */
async function outcomeOf(gw: Gateway, sessionId: string) {
  for (let i = 0; i < 200; i++) {
    const outcome = gw.outcome(sessionId);
    if (outcome) return outcome;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no outcome for ${sessionId}`);
}

describe("realtime gateway: authentication", () => {
  it("refuses connections without a valid gateway key before upgrading", async () => {
    // Prepare
    const gw = await start();

    // Act / Assess
    await expect(connect(gw.url)).rejects.toMatchObject({ status: 401 });
    await expect(connect(gw.url, { key: "wrong" })).rejects.toMatchObject({ status: 401 });
    await expect(connect(gw.url.replace("/v1/realtime", "/v1/other"), { key: KEY })).rejects.toMatchObject({ status: 404 });
    expect(recorder.sessions.size).toBe(0);
  });

  it("accepts a Bearer header, or the browser subprotocols (answering 'realtime', never the key)", async () => {
    // Prepare
    const gw = await start();

    // Act
    const byHeader = await connect(gw.url, { key: KEY, query: "?model=openai/whisper-large-v3&input_audio_format=pcm_s16le_16000" });
    const byProtocol = await connect(gw.url, { protocols: ["realtime", `openai-insecure-api-key.${KEY}`, "openai-beta.realtime-v1"] });

    // Assess
    const created = await byHeader.next("session.created");
    expect(created.session).toMatchObject({ id: expect.stringMatching(/^sess_/), model: "openai/whisper-large-v3", input_audio_format: "pcm_s16le_16000", upstream: "http" });
    await byProtocol.next("session.created");
    expect(byProtocol.ws.protocol).toBe("realtime");
    byHeader.ws.close();
    byProtocol.ws.close();
  });
});

describe("realtime gateway: bad input", () => {
  it("answers every bad client message with an error event and keeps the session", async () => {
    // Prepare
    const gw = await start({ maxAudioChunkBytes: 1000 });
    const c = await connect(gw.url, { key: KEY });
    await c.next("session.created");

    // Act
    c.ws.send("{oops");
    c.ws.send(JSON.stringify({ type: "response.create" }));
    c.ws.send(JSON.stringify({ type: "input_audio_buffer.append", audio: "%%%%" }));
    c.ws.send(append(new Int16Array(4000)));
    c.ws.send(JSON.stringify({ type: "transcription_session.update", session: { input_audio_format: "g711_ulaw" } }));
    c.ws.send(JSON.stringify({ type: "transcription_session.update", session: { input_audio_transcription: { language: "klingon" } } }));
    c.ws.send(Buffer.from([1, 2, 3]));
    c.ws.send(JSON.stringify({ type: "input_audio_buffer.commit" }));
    c.ws.send(JSON.stringify({ type: "session.update", session: { turn_detection: { silence_duration_ms: 900 }, input_audio_transcription: { language: "en" } } }));

    // Assess
    const updated = await c.next("session.updated");
    const codes = c.events.filter((e) => e.type === "error").map((e) => e.error.code);
    expect(codes).toEqual([
      "invalid_json",
      "unknown_event_type",
      "invalid_base64",
      "audio_chunk_too_large",
      "unsupported_audio_format",
      "invalid_value",
      "invalid_event",
      "input_audio_buffer_commit_empty",
    ]);
    expect(c.events.filter((e) => e.type === "error").every((e) => typeof e.message === "string" && e.message.length > 0)).toBe(true);
    expect(updated.session).toMatchObject({ turn_detection: { silence_duration_ms: 900 }, input_audio_transcription: { language: "en" } });
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();
  });

  it("closes a connection that asks for another audio format, with an error saying which one to send", async () => {
    // Prepare
    const gw = await start();

    // Act
    const c = await connect(gw.url, { key: KEY, query: "?input_audio_format=pcm_s16le_24000" });
    const closed = await c.closed;

    // Assess
    expect(c.events).toMatchObject([{ type: "error", error: { code: "unsupported_audio_format", param: "input_audio_format" } }]);
    expect(c.events[0].message).toContain("pcm_s16le_16000");
    expect(closed.code).toBe(1008);
    expect(recorder.sessions.size).toBe(0);
  });
});

describe("realtime gateway: utterances and limits", () => {
  it("commits, transcribes and completes an utterance with its item id and times", async () => {
    // Prepare: partials off, so the utterance is one request
    const gw = await start({}, { partials: "off" });
    const c = await connect(gw.url, { key: KEY });
    await c.next("session.created");
    await (c.ws.send(JSON.stringify({ type: "transcription_session.update", session: { turn_detection: null } })), c.next("transcription_session.updated"));

    // Act
    c.ws.send(append(tone(1.5)));
    c.ws.send(JSON.stringify({ type: "input_audio_buffer.commit" }));

    // Assess
    const committed = await c.next("input_audio_buffer.committed");
    const completed = await c.next("conversation.item.input_audio_transcription.completed");
    expect(completed).toMatchObject({ item_id: committed.item_id, transcript: "heard 1.5 s", start: 0, end: 1.5, content_index: 0 });
    // The completed event is the utterance's acknowledgement: its audio was made durable first.
    const [recorded] = [...recorder.sessions.values()];
    expect(recorded.durableThrough).toBeGreaterThanOrEqual(1.5 * 16000);
    c.ws.close();
  });

  it("ends an utterance by itself on silence (server VAD)", async () => {
    // Prepare
    const gw = await start();
    const c = await connect(gw.url, { key: KEY });
    await c.next("session.created");

    // Act
    c.ws.send(append(new Int16Array(8000)));
    c.ws.send(append(tone(2)));
    c.ws.send(append(new Int16Array(16000)));

    // Assess
    const started = await c.next("input_audio_buffer.speech_started");
    const stopped = await c.next("input_audio_buffer.speech_stopped");
    const completed = await c.next("conversation.item.input_audio_transcription.completed");
    expect(started.audio_start_ms).toBeGreaterThanOrEqual(150);
    expect(started.audio_start_ms).toBeLessThanOrEqual(500);
    expect(stopped.audio_end_ms).toBeGreaterThanOrEqual(2500);
    expect(stopped.audio_end_ms).toBeLessThanOrEqual(2700);
    expect(completed.item_id).toBe(started.item_id);
    c.ws.close();
  });

  it("closes an idle session and submits what it received", async () => {
    // Prepare
    const gw = await start({ idleTimeoutSeconds: 0.3 });
    const c = await connect(gw.url, { key: KEY });
    const created = await c.next("session.created");

    // Act
    c.ws.send(append(tone(0.5)));
    const closed = await c.closed;

    // Assess
    expect(c.events.find((e) => e.type === "error")?.error.code).toBe("idle_timeout");
    expect(closed.code).toBe(1000);
    const outcome = await outcomeOf(gw, created.session.id);
    expect(outcome).toMatchObject({ status: "SUBMITTED", audioSeconds: 0.5 });
    expect(recorder.sessions.get(created.session.id)?.end?.reason).toBe("idle_timeout");
  });

  it("stops a session at its audio limit, keeping exactly the allowed audio", async () => {
    // Prepare
    const gw = await start({ maxSessionSeconds: 1 });
    const c = await connect(gw.url, { key: KEY });
    const created = await c.next("session.created");

    // Act
    c.ws.send(append(tone(0.75)));
    c.ws.send(append(tone(0.75)));
    const closed = await c.closed;

    // Assess
    expect(c.events.find((e) => e.type === "error")?.error.code).toBe("session_limit_reached");
    expect(closed.code).toBe(1008);
    const outcome = await outcomeOf(gw, created.session.id);
    expect(outcome.audioSeconds).toBe(1);
    expect(recorder.sessions.get(created.session.id)?.end?.reason).toBe("session_limit");
  });

  it("refuses sessions past the per-key limit", async () => {
    // Prepare
    const gw = await start({ maxSessionsPerKey: 1 });
    const first = await connect(gw.url, { key: KEY });
    await first.next("session.created");

    // Act / Assess
    await expect(connect(gw.url, { key: KEY })).rejects.toMatchObject({ status: 429 });
    first.ws.close();
    await first.closed;
    const health = await fetch(gw.url.replace("ws://", "http://").replace("/v1/realtime", "/healthz"));
    expect(health.status).toBe(200);
  });
});
