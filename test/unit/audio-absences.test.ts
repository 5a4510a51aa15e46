/** Conversations where a speaker is away for a while: silent in the range, the rest unchanged. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildConversation, type ConversationStyle, type Recording, type TrueWord } from "../audio/conversation.js";

function fingerprint(recording: Recording): string {
  return createHash("sha1").update(new Uint8Array(recording.samples.buffer)).update(JSON.stringify(recording.words)).digest("hex");
}

function overlaps(word: TrueWord, from: number, to: number): boolean {
  return word.start < to && word.end > from;
}

describe("buildConversation with absences", () => {
  it.each([
    ["meeting", 2, 30, 90],
    ["quick-turns", 3, 20, 70],
    ["lecture", 1, 100, 200],
  ] as Array<[ConversationStyle, number, number, number]>)("%s: speaker %d says nothing in [%d, %d) while the others go on", (style, speaker, from, to) => {
    // Prepare
    const spec = { seed: 17, voices: 3, durationSeconds: 300, style, absences: [{ speaker, fromSeconds: from, toSeconds: to }] };
    const name = `S${speaker}`;

    // Act
    const recording = buildConversation(spec);
    const again = buildConversation(spec);

    // Assess
    expect(fingerprint(again)).toBe(fingerprint(recording));
    expect(recording.words.filter((word) => word.speaker === name && overlaps(word, from, to))).toEqual([]);
    expect(recording.words.some((word) => word.speaker === name && word.end <= from)).toBe(true);
    expect(recording.words.some((word) => word.speaker === name && word.start >= to)).toBe(true);
    expect(recording.words.some((word) => word.speaker !== name && overlaps(word, from, to))).toBe(true);
    expect(recording.id).not.toBe(buildConversation({ ...spec, absences: undefined }).id);
  });

  it("is silent where everyone is away, and skips scripted turns of an absent speaker", () => {
    // Act
    const everyoneAway = buildConversation({
      seed: 4,
      voices: 2,
      durationSeconds: 60,
      style: "quick-turns",
      absences: [
        { speaker: 1, fromSeconds: 10, toSeconds: 25 },
        { speaker: 2, fromSeconds: 15, toSeconds: 30 },
      ],
    });
    const scripted = buildConversation({
      seed: 4,
      voices: 2,
      durationSeconds: 1,
      turns: [{ speaker: 1, words: 3 }, { speaker: 2, words: 3 }, { speaker: 1, words: 2 }],
      absences: [{ speaker: 2, fromSeconds: 0, toSeconds: 100 }],
    });

    // Assess
    expect(everyoneAway.words.filter((word) => overlaps(word, 15, 25))).toEqual([]);
    const awayWords = everyoneAway.words.filter(
      (word) => (word.speaker === "S1" && overlaps(word, 10, 25)) || (word.speaker === "S2" && overlaps(word, 15, 30)),
    );
    expect(awayWords).toEqual([]);
    expect(everyoneAway.words.some((word) => word.start >= 30)).toBe(true);
    expect(scripted.words.map((word) => word.speaker)).toEqual(["S1", "S1", "S1", "S1", "S1"]);
  });

  it("leaves recordings without absences exactly as they were", () => {
    // Act
    const meeting = buildConversation({ seed: 11, voices: 3, durationSeconds: 60, style: "meeting" });
    const quick = buildConversation({ seed: 12, voices: 2, durationSeconds: 40, style: "quick-turns", noiseDb: -60 });
    const lecture = buildConversation({ seed: 13, voices: 3, durationSeconds: 300, style: "lecture" });
    const script = buildConversation({ seed: 14, voices: 2, durationSeconds: 1, turns: [{ speaker: 2, words: 3 }, { speaker: 1, words: 4 }] });
    const emptyList = buildConversation({ seed: 11, voices: 3, durationSeconds: 60, style: "meeting", absences: [] });

    // Assess: fingerprints taken before absences existed
    expect(fingerprint(meeting)).toBe("57ad7ef3f39481c31eb110344a024edebf7e625e");
    expect(fingerprint(quick)).toBe("d7aa1dcdeeb0beede63dbe1f8ba1230ea9f16e1d");
    expect(fingerprint(lecture)).toBe("4c2e7eeadbf6f21656d0264ce6a4ad7f884ec187");
    expect(fingerprint(script)).toBe("5e73de47c870ac639698fe7ff5e83fcbce691d30");
    expect(fingerprint(emptyList)).toBe(fingerprint(meeting));
    expect(emptyList.id).toBe(meeting.id);
  });

  it("rejects an absence of an unknown speaker or an empty range", () => {
    // Act
    const unknownSpeaker = () => buildConversation({ seed: 1, voices: 2, durationSeconds: 10, absences: [{ speaker: 3, fromSeconds: 0, toSeconds: 5 }] });
    const emptyRange = () => buildConversation({ seed: 1, voices: 2, durationSeconds: 10, absences: [{ speaker: 1, fromSeconds: 5, toSeconds: 5 }] });

    // Assess
    expect(unknownSpeaker).toThrow(/absence speaker/);
    expect(emptyRange).toThrow(/range/);
  });
});
