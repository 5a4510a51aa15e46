import { describe, expect, it } from "vitest";
import { buildConversation, buildSilence } from "../audio/conversation.js";
import { EnergyVad, type VadEvent } from "../../realtime/vad.js";

function utterances(samples: Int16Array, vad = new EnergyVad()): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let start = -1;
  const on = (e: VadEvent) => (e.type === "speech_started" ? (start = e.sample) : spans.push([start / 16000, e.sample / 16000]));
  // 256 ms appends, as Together's example client sends.
  for (let i = 0; i < samples.length; i += 4096) vad.push(samples.subarray(i, i + 4096)).forEach(on);
  vad.flush().forEach(on);
  return spans;
}

describe("energy VAD", () => {
  for (const noiseDb of [undefined, -50]) {
    it(`keeps every word inside one utterance and ends utterances at turn pauses (noise ${noiseDb ?? "none"})`, () => {
      // Prepare
      const conversation = buildConversation({ seed: 7, voices: 3, durationSeconds: 60, style: "quick-turns", noiseDb });

      // Act
      const spans = utterances(conversation.samples);

      // Assess: no word is cut by an utterance boundary
      const inside = conversation.words.filter((w) => spans.some(([a, b]) => a <= w.start && w.end <= b));
      expect(inside.length).toBe(conversation.words.length);
      // every pause of 0.8 s or more (500 ms silence setting) separates two utterances, short ones never do
      for (let i = 1; i < conversation.words.length; i++) {
        const [a, b] = [conversation.words[i - 1].end, conversation.words[i].start];
        const bridged = spans.some(([s, e]) => s <= a && e >= b);
        if (b - a >= 0.8) expect(bridged, `pause at ${a.toFixed(2)} s`).toBe(false);
        if (b - a < 0.3) expect(bridged, `word gap at ${a.toFixed(2)} s`).toBe(true);
      }
      // utterances are ordered and do not overlap
      for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    });
  }

  it("hears nothing in silence or a steady noise floor", () => {
    expect(utterances(buildSilence(10).samples)).toEqual([]);
    expect(utterances(buildSilence(10, -45).samples)).toEqual([]);
  });

  it("waits longer before ending an utterance when silence_duration_ms is longer", () => {
    // Prepare
    const conversation = buildConversation({ seed: 7, voices: 3, durationSeconds: 60, style: "quick-turns" });

    // Act
    const short = utterances(conversation.samples, new EnergyVad({ silenceDurationMs: 300 }));
    const long = utterances(conversation.samples, new EnergyVad({ silenceDurationMs: 1500 }));

    // Assess
    expect(long.length).toBeLessThan(short.length);
  });
});
