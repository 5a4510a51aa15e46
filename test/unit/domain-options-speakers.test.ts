import { describe, expect, it } from "vitest";
import { canonicalOptions, parseJobOptions, storedJobOptions } from "../../shared/domain/options/options.js";
import { voiceNameOfKey } from "../../shared/domain/speakers/enrolled-voices.js";
import { readVoices } from "../../shared/pipeline/enroll-voice.js";
import { flagsToMetadata, optionProblem } from "../../cli/transcribe-options.js";

describe("the speakers option", () => {
  it("reads names separated by commas, trimmed and each once", () => {
    // Act
    const parsed = parseJobOptions({ speakers: " alice, bob.smith ,alice,Carol_2" });

    // Assess
    expect(parsed).toMatchObject({ ok: true, options: { speakers: ["alice", "bob.smith", "Carol_2"] } });
  });

  it("reads * as every registered voice", () => {
    expect(parseJobOptions({ speakers: "*" })).toMatchObject({ ok: true, options: { speakers: ["*"] } });
  });

  it("is part of the job's options, so of its id", () => {
    // Prepare
    const plain = parseJobOptions({});
    const named = parseJobOptions({ speakers: "alice" });

    // Assess
    expect(plain.ok && named.ok).toBe(true);
    if (!plain.ok || !named.ok) return;
    expect(canonicalOptions(named.options)).not.toBe(canonicalOptions(plain.options));
    expect(storedJobOptions(JSON.parse(JSON.stringify(named.options)))).toEqual(named.options);
  });

  it.each([
    ["alice,,bob", "'' is not a voice name"],
    ["al ice", "'al ice' is not a voice name"],
    ["-alice", "'-alice' is not a voice name"],
    ["a".repeat(41), "is not a voice name"],
    ["*,alice", "'*' is not a voice name"],
    [Array.from({ length: 21 }, (_, i) => `v${i}`).join(","), "at most 20 names, not 21"],
  ])("refuses '%s', naming the key", (value, problem) => {
    // Act
    const parsed = parseJobOptions({ speakers: value });

    // Assess
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.reason).toContain("speakers");
    expect(parsed.reason).toContain(problem);
  });

  it("needs diarization", () => {
    expect(parseJobOptions({ speakers: "alice", diarize: "false" })).toEqual({
      ok: false,
      reason: "speakers needs diarization: it cannot be set with diarize=false",
    });
  });

  it("travels from the command line as the same metadata key, checked before upload", () => {
    expect(flagsToMetadata({ speakers: "alice,bob" })).toEqual({ speakers: "alice,bob" });
    expect(optionProblem({ speakers: "alice", "no-diarize": true }, "m")).toContain("speakers needs diarization");
  });
});

describe("voice clips under voices/", () => {
  it("name their voice by the file name", () => {
    expect(voiceNameOfKey("voices/alice.wav")).toEqual({ name: "alice" });
    expect(voiceNameOfKey("voices/bob.smith.mp3")).toEqual({ name: "bob.smith" });
    expect(voiceNameOfKey("voices/team/alice.wav")).toHaveProperty("invalid");
    expect(voiceNameOfKey("voices/al ice.wav")).toHaveProperty("invalid");
  });
});

describe("readVoices: what the provider heard in a voice clip", () => {
  const word = (start: number, speaker: string) => ({ word: "w", start, end: start + 0.4, speaker });

  it("keeps one voice's speech as pieces of 1-2 s", () => {
    // Act
    const read = readVoices([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 6, 6.5, 7].map((t) => word(t, "SPEAKER_00")), 8);

    // Assess
    expect(read).not.toHaveProperty("reason");
    const speech = "speech" in read ? read.speech : [];
    expect(speech.length).toBeGreaterThanOrEqual(2);
    for (const piece of speech) expect(piece.end - piece.start).toBeLessThanOrEqual(2 + 1e-9);
  });

  it("refuses no words, a second voice, too little speech", () => {
    expect(readVoices([], 5)).toEqual({ seconds: 5, reason: "no speech heard" });
    const two = [0.5, 1, 1.5].map((t) => word(t, "SPEAKER_00")).concat([3, 3.5, 4].map((t) => word(t, "SPEAKER_01")));
    expect(readVoices(two, 5)).toMatchObject({ reason: expect.stringContaining("two voices heard") });
    expect(readVoices([word(1, "SPEAKER_00"), word(1.5, "SPEAKER_00")], 5)).toMatchObject({ reason: expect.stringContaining("too little speech") });
  });

  it("does not take one stray word under another label for a second voice", () => {
    const words = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4].map((t) => word(t, "SPEAKER_00")).concat([word(4.5, "SPEAKER_01")]);
    expect(readVoices(words, 5)).not.toHaveProperty("reason");
  });
});
