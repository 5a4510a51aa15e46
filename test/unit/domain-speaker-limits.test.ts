import { describe, expect, it } from "vitest";
import { limitSpeakers } from "../../shared/domain/speakers/speaker-limits.js";
import { emptyBook, type SpeakerBook } from "../../shared/domain/speakers/speaker-book.js";

/** Three voices over four segments; V2 speaks least, and probes found it close to V1. */
function book(): SpeakerBook {
  return {
    ...emptyBook(),
    settled: 4,
    map: {
      0: { SPEAKER_00: "V0", SPEAKER_01: "V1" },
      1: { SPEAKER_00: "V1", SPEAKER_01: "V2" },
      2: { SPEAKER_00: "V0", SPEAKER_01: "V2" },
      3: { SPEAKER_00: "V0" },
    },
    voices: [
      { id: "V0", spans: [], seconds: 300 },
      { id: "V1", spans: [], seconds: 200 },
      { id: "V2", spans: [], seconds: 40 },
    ],
    closeness: { "V1|V2": 3, "V0|V2": 1 },
    weak: ["3/SPEAKER_00"],
  };
}

const voices = (map: Record<number, Record<string, string>>) => new Set(Object.values(map).flatMap((l) => Object.values(l)));

describe("limitSpeakers", () => {
  it("merges the voices the probes separated least until the maximum holds", () => {
    // Act
    const limited = limitSpeakers(book(), { maxSpeakers: 2 });

    // Assess
    expect(limited.merged).toEqual([["V2", "V1"]]);
    expect(voices(limited.map)).toEqual(new Set(["V0", "V1"]));
    expect(limited.map[2].SPEAKER_01).toBe("V1");
  });

  it("merges the least heard voice into a larger one when nothing tells them apart", () => {
    // Act
    const limited = limitSpeakers({ ...book(), closeness: {} }, { maxSpeakers: 1 });

    // Assess
    expect(voices(limited.map).size).toBe(1);
    expect(limited.merged[0][0]).toBe("V2");
  });

  it("gives labels settled only by a fallback their own voice to reach the minimum", () => {
    // Act
    const limited = limitSpeakers(book(), { minSpeakers: 4 });

    // Assess: one weak label could be split off, no more; nothing is invented
    expect(voices(limited.map).size).toBe(4);
    expect(limited.map[3].SPEAKER_00).not.toBe("V0");
    expect(limited.split).toEqual(["V0"]);
  });

  it("changes nothing within the limits", () => {
    expect(limitSpeakers(book(), { minSpeakers: 2, maxSpeakers: 3 }).map).toEqual(book().map);
  });
});
