/**
 * Together's realtime transcription protocol (OpenAI's realtime wire format, transcription intent), as the
 * gateway speaks it. Client messages are parsed with a schema at the boundary; every problem becomes an
 * `error` event naming the event and the field, and the session goes on. Server events carry the fields
 * Together documents (`delta`, `transcript`) plus the ones a client needs to place them (item id, times in
 * the session), which clients that ignore extra fields never notice.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { SAMPLE_RATE } from "../shared/audio/ffmpeg.js";

/**
 * The pipeline's sample rate is the protocol's: a session's audio is stored as it streams and becomes the
 * batch job's recording without resampling.
 */
export { SAMPLE_RATE };

/** The only audio format Together's realtime endpoint takes, under its query-string and session names. */
export const AUDIO_FORMAT = `pcm_s16le_${SAMPLE_RATE}` as const;
const AUDIO_FORMAT_ALIASES = new Set<string>([AUDIO_FORMAT, "pcm16"]);

/** Where the realtime endpoint is, on Together and on the gateway: a WebSocket upgrade of GET here. */
export const REALTIME_PATH = "/v1/realtime";

/** The subprotocol the server picks: the one every OpenAI-style client offers. */
export const REALTIME_SUBPROTOCOL = "realtime";

/**
 * The subprotocol that carries the API key where a client cannot set headers (browsers):
 * `openai-insecure-api-key.<key>`, offered beside `realtime`. Never the one the server picks.
 */
export const KEY_SUBPROTOCOL_PREFIX = "openai-insecure-api-key.";

/** The subprotocols a client offers to authenticate with `key`, in the order OpenAI's clients offer them. */
export function clientSubprotocols(key: string): string[] {
  return [REALTIME_SUBPROTOCOL, `${KEY_SUBPROTOCOL_PREFIX}${key}`, "openai-beta.realtime-v1"];
}

export function isSupportedAudioFormat(format: string): boolean {
  return AUDIO_FORMAT_ALIASES.has(format);
}

// ---- Client -> server

const turnDetectionSchema = z
  .object({
    type: z.enum(["server_vad"]).default("server_vad"),
    threshold: z.number().min(0).max(1).optional(),
    prefix_padding_ms: z.number().int().min(0).max(2000).optional(),
    silence_duration_ms: z.number().int().min(100).max(5000).optional(),
  })
  .loose();

const sessionConfigSchema = z
  .object({
    input_audio_format: z.string().optional(),
    input_audio_transcription: z
      .object({
        model: z.string().min(1).max(200).optional(),
        language: z.string().min(2).max(12).optional(),
        prompt: z.string().max(2000).optional(),
      })
      .loose()
      .nullish(),
    /** null turns server VAD off: only `input_audio_buffer.commit` ends an utterance. */
    turn_detection: turnDetectionSchema.nullish(),
  })
  .loose();

export type SessionConfigUpdate = z.infer<typeof sessionConfigSchema>;

const clientMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("input_audio_buffer.append"), audio: z.string(), event_id: z.string().optional() }).loose(),
  z.object({ type: z.literal("input_audio_buffer.commit"), event_id: z.string().optional() }).loose(),
  z.object({ type: z.literal("input_audio_buffer.clear"), event_id: z.string().optional() }).loose(),
  z.object({ type: z.literal("transcription_session.update"), session: sessionConfigSchema, event_id: z.string().optional() }).loose(),
  z.object({ type: z.literal("session.update"), session: sessionConfigSchema, event_id: z.string().optional() }).loose(),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
export const CLIENT_MESSAGE_TYPES = [
  "input_audio_buffer.append",
  "input_audio_buffer.commit",
  "input_audio_buffer.clear",
  "transcription_session.update",
  "session.update",
] as const;

export interface ProtocolProblem {
  code: string;
  message: string;
  param?: string;
  eventId?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: ProtocolProblem };

/** Parses one text frame from the client. Never throws: every failure is a problem to report. */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail("invalid_json", "the message is not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return fail("invalid_event", "the message must be a JSON object with a `type`");
  }
  const record = json as Record<string, unknown>;
  const eventId = typeof record.event_id === "string" ? record.event_id : undefined;
  if (typeof record.type !== "string") return fail("invalid_event", "the message has no string `type`", "type", eventId);
  if (!(CLIENT_MESSAGE_TYPES as readonly string[]).includes(record.type)) {
    return fail("unknown_event_type", `unknown event type '${record.type.slice(0, 80)}'; expected one of ${CLIENT_MESSAGE_TYPES.join(", ")}`, "type", eventId);
  }
  const parsed = clientMessageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.join(".") || undefined;
    return fail("invalid_value", `${record.type}: ${param ? `${param}: ` : ""}${issue?.message ?? "invalid"}`, param, eventId);
  }
  return { ok: true, value: parsed.data };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes an append's audio. Node's base64 decoder silently skips bad characters, so the text is checked
 * first: a client that sends the wrong encoding hears about it instead of getting a transcript of noise.
 */
export function decodeAudioChunk(audio: string, maxBytes: number): Parsed<Int16Array> {
  if (audio.length === 0) return fail("invalid_audio", "input_audio_buffer.append: audio is empty", "audio");
  if (audio.length > Math.ceil(maxBytes / 3) * 4) {
    return fail("audio_chunk_too_large", `input_audio_buffer.append: audio chunk over ${maxBytes} bytes; send smaller chunks (about 100-500 ms each)`, "audio");
  }
  if (audio.length % 4 !== 0 || !BASE64.test(audio)) {
    return fail("invalid_base64", "input_audio_buffer.append: audio is not valid base64", "audio");
  }
  const bytes = Buffer.from(audio, "base64");
  if (bytes.length % 2 !== 0) {
    return fail("invalid_audio", `input_audio_buffer.append: audio must be whole 16-bit samples (an even number of bytes) of ${AUDIO_FORMAT}`, "audio");
  }
  // Copy into an aligned buffer: Buffer.from may hand back a slice at an odd offset of the pool.
  const samples = new Int16Array(bytes.length / 2);
  Buffer.from(samples.buffer).set(bytes);
  return { ok: true, value: samples };
}

function fail(code: string, message: string, param?: string, eventId?: string): { ok: false; problem: ProtocolProblem } {
  return { ok: false, problem: { code, message, param, eventId } };
}

// ---- Server -> client

export interface SessionView {
  id: string;
  object: "realtime.transcription_session";
  model: string;
  input_audio_format: typeof AUDIO_FORMAT;
  input_audio_transcription: { model: string; language: string | null; prompt: string | null };
  turn_detection: { type: "server_vad"; threshold: number; prefix_padding_ms: number; silence_duration_ms: number } | null;
  /** Gateway extension: how audio is transcribed live ("realtime" relay or "http" per utterance). */
  upstream: "realtime" | "http";
  expires_at: number;
}

export interface Word {
  word: string;
  start: number;
  end: number;
}

export type ServerEvent =
  | { type: "session.created"; session: SessionView }
  | { type: "transcription_session.updated" | "session.updated"; session: SessionView }
  | { type: "input_audio_buffer.speech_started"; item_id: string; audio_start_ms: number }
  | { type: "input_audio_buffer.speech_stopped"; item_id: string; audio_end_ms: number }
  | { type: "input_audio_buffer.committed"; item_id: string; previous_item_id: string | null }
  | { type: "input_audio_buffer.cleared" }
  | { type: "conversation.item.input_audio_transcription.delta"; item_id: string; content_index: 0; delta: string }
  | {
      type: "conversation.item.input_audio_transcription.completed";
      item_id: string;
      content_index: 0;
      transcript: string;
      /** Seconds from the start of the session's audio. */
      start: number;
      end: number;
      words?: Word[];
      language?: string;
    }
  | {
      type: "conversation.item.input_audio_transcription.failed";
      item_id: string;
      content_index: 0;
      start: number;
      end: number;
      error: { type: "transcription_error"; code: string; message: string };
    }
  | { type: "error"; message: string; error: { type: "invalid_request_error" | "server_error"; code: string; message: string; param: string | null; event_id: string | null } };

/** Every event gets an `event_id`, as OpenAI-style servers send. */
export function serialize(event: ServerEvent): string {
  return JSON.stringify({ event_id: `event_${randomUUID().replace(/-/g, "").slice(0, 20)}`, ...event });
}

export function errorEvent(problem: ProtocolProblem, type: "invalid_request_error" | "server_error" = "invalid_request_error"): ServerEvent {
  // `message` at the top level too: Together's guide says "error with a message", OpenAI nests it.
  return {
    type: "error",
    message: problem.message,
    error: { type, code: problem.code, message: problem.message, param: problem.param ?? null, event_id: problem.eventId ?? null },
  };
}
