/**
 * Live text in pieces: where an open utterance is cut (pure rule), and what the HTTP upstream then sends
 * to the provider and the client (a fake provider client that records each request).
 */
import { describe, expect, it } from "vitest";
import { frameLevels, joinPieces, pieceCut, pieceRules } from "../../realtime/upstream/live-pieces.js";
import { HttpUpstream } from "../../realtime/upstream/http-upstream.js";
import { DEFAULT_HTTP_UPSTREAM } from "../../realtime/upstream/select.js";
import { DEFAULT_VAD } from "../../realtime/vad.js";
import { realtimeSettingsFromEnv } from "../../realtime/config.js";
import type { UpstreamListener } from "../../realtime/upstream/types.js";
import type { ProviderClient } from "../../shared/provider/client.js";

const RATE = 16000;

/** A "word": a 300 Hz tone at -12 dBFS with a 10 ms fade each side; silence is digital zero. */
function audio(parts: Array<["word" | "gap", number]>): Int16Array {
  const out = new Int16Array(Math.round(parts.reduce((s, [, seconds]) => s + seconds, 0) * RATE));
  let at = 0;
  for (const [kind, seconds] of parts) {
    const n = Math.round(seconds * RATE);
    if (kind === "word") {
      for (let i = 0; i < n; i++) {
        const fade = Math.min(1, i / 160, (n - i) / 160);
        out[at + i] = Math.round(8000 * fade * Math.sin((2 * Math.PI * 300 * i) / RATE));
      }
    }
    at += n;
  }
  return out;
}

describe("pieceCut: where an open utterance is cut", () => {
  it("waits until the piece holds minSeconds of audio", () => {
    expect(pieceCut(frameLevels(audio([["word", 0.4], ["gap", 0.2], ["word", 0.3]])))).toBeUndefined();
  });

  it("cuts in the middle of the latest pause of at least 120 ms once the piece is long enough", () => {
    // Pause [0.85, 1.0) s, then speech again.
    const levels = frameLevels(audio([["word", 0.45], ["gap", 0.15], ["word", 0.25], ["gap", 0.15], ["word", 0.3]]));
    const cut = pieceCut(levels)!;
    expect(cut.atPause).toBe(true);
    expect(cut.frame * 0.02).toBeGreaterThanOrEqual(0.85);
    expect(cut.frame * 0.02).toBeLessThan(1.0);
  });

  it("does not take a stop consonant's short closure for a pause, nor cut in a pause still open", () => {
    const closure = frameLevels(audio([["word", 0.5], ["gap", 0.06], ["word", 0.6]]));
    expect(pieceCut(closure)).toBeUndefined();
    const trailing = frameLevels(audio([["word", 1.0], ["gap", 0.3]]));
    expect(pieceCut(trailing)).toBeUndefined();
  });

  it("cuts at the quietest moment once the piece reaches maxSeconds without a pause", () => {
    const levels = frameLevels(audio([["word", 0.7], ["gap", 0.06], ["word", 0.9]]));
    const cut = pieceCut(levels)!;
    expect(cut.atPause).toBe(false);
    expect(cut.frame * 0.02).toBeGreaterThanOrEqual(0.68);
    expect(cut.frame * 0.02).toBeLessThanOrEqual(0.78);
  });

  it("joins pieces, keeping a word a forced cut went through once: whole, not its fragment", () => {
    const w = (word: string, start: number, end: number) => ({ word, start, end });
    const left = { transcript: "we should up", words: [w("we", 0.1, 0.3), w("should", 0.35, 0.7), w("up", 1.3, 1.5)], end: 1.5, cutInSpeech: true };
    const right = { transcript: "Update. Then", words: [w("Update.", 1.5, 1.9), w("Then", 2.0, 2.2)], end: 2.3, cutInSpeech: false };
    const joined = joinPieces([left, right]);
    expect(joined.transcript).toBe("we should Update. Then");
    expect(joined.words!.map((x) => x.word)).toEqual(["we", "should", "Update.", "Then"]);
    // The fragment on the right.
    const whole = { ...left, transcript: "we should update", words: [...left.words.slice(0, 2), w("update", 1.1, 1.5)] };
    expect(joinPieces([whole, { ...right, transcript: "date. Then", words: [w("date.", 1.5, 1.6), w("Then", 2.0, 2.2)] }]).transcript).toBe("we should update Then");
    // Two different words meeting at the cut, and any words at a pause, are all kept.
    expect(joinPieces([{ ...left, transcript: "we should go", words: [...left.words.slice(0, 2), w("go", 1.2, 1.5)] }, right]).transcript).toBe("we should go Update. Then");
    expect(joinPieces([{ ...left, cutInSpeech: false }, right]).transcript).toBe("we should up Update. Then");
    // Text-only answers are joined as they are.
    expect(joinPieces([{ ...left, words: undefined }, right])).toEqual({ transcript: "we should up Update. Then", words: undefined });
  });

  it("scales with the longest piece allowed", () => {
    expect(pieceRules(3)).toEqual({ minSeconds: 2, maxSeconds: 3 });
    expect(pieceRules(0.2).maxSeconds).toBe(1);
  });
});

interface Heard {
  requests: number[];
  deltas: Array<{ text: string; atSecond: number }>;
  completed: Array<{ transcript: string; start: number; end: number; words?: Array<{ word: string; start: number }> }>;
}

/** Streams `samples` in 256 ms appends, letting the fake provider answer between appends. */
async function stream(samples: Int16Array, partials: "pieces" | "off"): Promise<Heard> {
  const heard: Heard = { requests: [], deltas: [], completed: [] };
  let streamed = 0;
  const provider = {
    transcribe: async (req: { audioSeconds: number }) => {
      heard.requests.push(req.audioSeconds);
      const n = heard.requests.length;
      return { text: `p${n}`, words: [{ word: `p${n}`, start: 0.1, end: 0.2 }], spans: [], speakers: [] };
    },
  } as unknown as ProviderClient;
  const listener: UpstreamListener = {
    speechStarted: () => undefined,
    speechStopped: () => undefined,
    committed: () => undefined,
    delta: (_id, text) => heard.deltas.push({ text, atSecond: streamed / RATE }),
    completed: (_id, result) => heard.completed.push(result),
    failed: () => undefined,
    problem: () => undefined,
    lost: () => undefined,
  };
  let items = 0;
  const upstream = new HttpUpstream({ model: "m", vad: { ...DEFAULT_VAD } }, listener, { next: () => `item_${++items}` }, {
    ...DEFAULT_HTTP_UPSTREAM,
    partials,
    provider,
  });
  for (let at = 0; at < samples.length; at += 4096) {
    const chunk = samples.subarray(at, Math.min(samples.length, at + 4096));
    upstream.append(chunk);
    streamed += chunk.length;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await upstream.drain(5000);
  return { ...heard, requests: heard.requests };
}

/** One 20 s turn of 0.45 s words and 0.15 s pauses, with silence around it. */
function turn(): Int16Array {
  const parts: Array<["word" | "gap", number]> = [["gap", 1]];
  for (let i = 0; i < 33; i++) parts.push(["word", 0.45], ["gap", 0.15]);
  parts.push(["gap", 1.5]);
  return audio(parts);
}

describe("HTTP upstream: live text in pieces", () => {
  it("bills each second of the utterance once and sends a delta at least every 1.5 s of speech", async () => {
    const heard = await stream(turn(), "pieces");

    expect(heard.completed).toHaveLength(1);
    const [utterance] = heard.completed;
    const billed = heard.requests.reduce((a, b) => a + b, 0);
    expect(billed).toBeLessThanOrEqual(utterance.end - utterance.start + 0.01);
    expect(billed / (utterance.end - utterance.start)).toBeGreaterThan(0.95);
    for (const seconds of heard.requests) expect(seconds).toBeLessThanOrEqual(1.5 + 0.3);
    // Deltas arrive while the utterance is open, one per piece, each the text so far.
    expect(heard.deltas.length).toBeGreaterThanOrEqual(Math.floor((utterance.end - utterance.start) / 1.5) - 1);
    const gaps = heard.deltas.slice(1).map((d, i) => d.atSecond - heard.deltas[i].atSecond);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1.6);
    expect(heard.deltas.at(-1)!.text).toBe(heard.requests.slice(0, heard.deltas.length).map((_, i) => `p${i + 1}`).join(" "));
    // The completed text is every piece's, in order, with words at session times.
    expect(utterance.transcript).toBe(heard.requests.map((_, i) => `p${i + 1}`).join(" "));
    expect(utterance.words).toHaveLength(heard.requests.length);
    const starts = utterance.words!.map((w) => w.start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(starts[0]).toBeGreaterThanOrEqual(utterance.start);
  });

  it("with partials off, sends each utterance once when it ends, and no deltas", async () => {
    const heard = await stream(turn(), "off");

    expect(heard.deltas).toEqual([]);
    expect(heard.requests).toHaveLength(1);
    expect(heard.completed).toMatchObject([{ transcript: "p1" }]);
    expect(heard.requests[0]).toBeCloseTo(heard.completed[0].end - heard.completed[0].start, 2);
  });
});

describe("live text settings", () => {
  it("reads STT_REALTIME_PARTIALS and STT_REALTIME_PIECE_MAX_MS, and refuses the retired delta interval", () => {
    expect(realtimeSettingsFromEnv({}).http).toEqual({ partials: "pieces", pieces: { minSeconds: 1, maxSeconds: 1.5 } });
    expect(realtimeSettingsFromEnv({ STT_REALTIME_PARTIALS: "off", STT_REALTIME_PIECE_MAX_MS: "3000" }).http).toEqual({
      partials: "off",
      pieces: { minSeconds: 2, maxSeconds: 3 },
    });
    expect(() => realtimeSettingsFromEnv({ STT_REALTIME_PARTIALS: "some" })).toThrow(/STT_REALTIME_PARTIALS must be one of pieces, off/);
    expect(() => realtimeSettingsFromEnv({ STT_REALTIME_DELTA_INTERVAL_MS: "500" })).toThrow(/no longer read.*STT_REALTIME_PARTIALS/);
  });
});

describe("HTTP upstream: utterances too short for a model", () => {
  it("completes the sliver a maxUtteranceSeconds cut leaves before the VAD's end empty, without a provider request", async () => {
    // Prepare: a detector that starts speech at once and ends it one sample after the 2 s cut.
    const requests: number[] = [];
    const completed: Array<{ transcript: string; start: number; end: number }> = [];
    const failed: string[] = [];
    const provider = {
      transcribe: async (req: { audioSeconds: number }) => {
        requests.push(req.audioSeconds);
        return { text: "words", words: null, spans: [], speakers: [] };
      },
    } as unknown as ProviderClient;
    let pushed = 0;
    const detector = () => ({
      speaking: false,
      update: () => undefined,
      flush: () => [],
      push: (samples: Int16Array) => {
        const events: Array<{ type: "speech_started" | "speech_stopped"; sample: number }> = [];
        if (pushed === 0) events.push({ type: "speech_started", sample: 0 });
        pushed += samples.length;
        if (pushed > 2 * RATE) events.push({ type: "speech_stopped", sample: 2 * RATE + 1 });
        return events;
      },
    });
    const listener = {
      speechStarted: () => undefined,
      speechStopped: () => undefined,
      committed: () => undefined,
      delta: () => undefined,
      completed: (_id: string, result: { transcript: string; start: number; end: number }) => completed.push(result),
      failed: (id: string) => failed.push(id),
      problem: () => undefined,
      lost: () => undefined,
    } satisfies UpstreamListener;
    let items = 0;
    const upstream = new HttpUpstream({ model: "m", vad: { ...DEFAULT_VAD } }, listener, { next: () => `item_${++items}` }, {
      ...DEFAULT_HTTP_UPSTREAM,
      partials: "off",
      maxUtteranceSeconds: 1.9,
      provider,
      detector,
    });

    // Act
    upstream.append(audio([["word", 2]]));
    upstream.append(audio([["word", 0.01]]));
    await upstream.drain(1000);

    // Assess
    expect(failed).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(completed).toMatchObject([{ transcript: "words", start: 0, end: 2 }, { transcript: "", start: 2 }]);
  });
});
