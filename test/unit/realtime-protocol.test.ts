import { describe, expect, it } from "vitest";
import {
  AUDIO_FORMAT,
  clientSubprotocols,
  decodeAudioChunk,
  errorEvent,
  isSupportedAudioFormat,
  parseClientMessage,
  serialize,
} from "../../realtime/protocol.js";
import { keyIdOf, presentedKey } from "../../realtime/gateway.js";
import { parseKeys } from "../../realtime/config.js";
import { realtimeUrlFor } from "../../realtime/upstream/relay-upstream.js";

describe("realtime protocol: client messages", () => {
  it("parses the documented events and keeps unknown fields out of the way", () => {
    // Act
    const append = parseClientMessage(JSON.stringify({ type: "input_audio_buffer.append", audio: "AAA=", extra: 1 }));
    const update = parseClientMessage(
      JSON.stringify({ type: "transcription_session.update", session: { turn_detection: { type: "server_vad", silence_duration_ms: 800 }, include: [] } }),
    );
    const sessionUpdate = parseClientMessage(JSON.stringify({ type: "session.update", session: { turn_detection: null } }));

    // Assess
    expect(append).toMatchObject({ ok: true, value: { type: "input_audio_buffer.append", audio: "AAA=" } });
    expect(update).toMatchObject({ ok: true, value: { session: { turn_detection: { silence_duration_ms: 800 } } } });
    expect(sessionUpdate).toMatchObject({ ok: true, value: { session: { turn_detection: null } } });
  });

  it("names what is wrong with a bad message", () => {
    // Act
    const cases = {
      json: parseClientMessage("{not json"),
      array: parseClientMessage("[]"),
      noType: parseClientMessage("{}"),
      unknown: parseClientMessage(JSON.stringify({ type: "response.create", event_id: "e1" })),
      missingAudio: parseClientMessage(JSON.stringify({ type: "input_audio_buffer.append" })),
      badSilence: parseClientMessage(JSON.stringify({ type: "transcription_session.update", session: { turn_detection: { silence_duration_ms: -5 } } })),
    };

    // Assess
    expect(cases.json).toMatchObject({ ok: false, problem: { code: "invalid_json" } });
    expect(cases.array).toMatchObject({ ok: false, problem: { code: "invalid_event" } });
    expect(cases.noType).toMatchObject({ ok: false, problem: { code: "invalid_event", param: "type" } });
    expect(cases.unknown).toMatchObject({ ok: false, problem: { code: "unknown_event_type", eventId: "e1" } });
    expect(cases.missingAudio).toMatchObject({ ok: false, problem: { code: "invalid_value", param: "audio" } });
    expect(cases.badSilence).toMatchObject({ ok: false, problem: { code: "invalid_value", param: "session.turn_detection.silence_duration_ms" } });
  });

  it("decodes base64 PCM16 and refuses what is not", () => {
    // Prepare
    const samples = Int16Array.from([0, 1, -1, 32767, -32768]);
    const good = Buffer.from(samples.buffer).toString("base64");

    // Act / Assess
    const decoded = decodeAudioChunk(good, 1024);
    expect(decoded.ok && Array.from(decoded.value)).toEqual([0, 1, -1, 32767, -32768]);
    expect(decodeAudioChunk("", 1024)).toMatchObject({ ok: false, problem: { code: "invalid_audio" } });
    expect(decodeAudioChunk("not base64!", 1024)).toMatchObject({ ok: false, problem: { code: "invalid_base64" } });
    expect(decodeAudioChunk("AAA", 1024)).toMatchObject({ ok: false, problem: { code: "invalid_base64" } });
    expect(decodeAudioChunk(Buffer.from([1, 2, 3]).toString("base64"), 1024)).toMatchObject({ ok: false, problem: { code: "invalid_audio" } });
    expect(decodeAudioChunk(Buffer.alloc(4096).toString("base64"), 1024)).toMatchObject({ ok: false, problem: { code: "audio_chunk_too_large" } });
  });

  it("accepts only 16 kHz PCM16 under its two names", () => {
    expect(isSupportedAudioFormat("pcm_s16le_16000")).toBe(true);
    expect(isSupportedAudioFormat("pcm16")).toBe(true);
    expect(isSupportedAudioFormat("g711_ulaw")).toBe(false);
    expect(isSupportedAudioFormat("pcm_s16le_24000")).toBe(false);
    expect(AUDIO_FORMAT).toBe("pcm_s16le_16000");
  });
});

describe("realtime protocol: server events and keys", () => {
  it("serializes events with an event id and errors with a message at both levels", () => {
    // Act
    const event = JSON.parse(serialize(errorEvent({ code: "invalid_base64", message: "bad", param: "audio", eventId: "c1" })));

    // Assess
    expect(event).toMatchObject({
      type: "error",
      message: "bad",
      error: { type: "invalid_request_error", code: "invalid_base64", message: "bad", param: "audio", event_id: "c1" },
    });
    expect(event.event_id).toMatch(/^event_/);
  });

  it("finds the key in the Authorization header or the browser subprotocol", () => {
    expect(presentedKey({ headers: { authorization: "Bearer abc" } })).toBe("abc");
    expect(presentedKey({ headers: { "sec-websocket-protocol": "realtime, openai-insecure-api-key.k-1, openai-beta.realtime-v1" } })).toBe("k-1");
    expect(presentedKey({ headers: { authorization: "Basic xyz" } })).toBeUndefined();
    expect(presentedKey({ headers: {} })).toBeUndefined();
    expect(presentedKey({ headers: { "sec-websocket-protocol": clientSubprotocols("k-2").join(", ") } })).toBe("k-2");
    expect(keyIdOf("abc")).toMatch(/^key_[0-9a-f]{12}$/);
    expect(keyIdOf("abc")).not.toContain("abc");
  });

  it("reads gateway keys as a list or JSON array, and derives the provider's realtime URL", () => {
    expect(parseKeys(" a, b ,,c")).toEqual(["a", "b", "c"]);
    expect(parseKeys('["x","y"]')).toEqual(["x", "y"]);
    expect(parseKeys(undefined)).toEqual([]);
    expect(realtimeUrlFor("https://api.together.xyz/v1")).toBe("wss://api.together.xyz/v1/realtime");
    expect(realtimeUrlFor("http://127.0.0.1:9000/v1/")).toBe("ws://127.0.0.1:9000/v1/realtime");
  });
});
