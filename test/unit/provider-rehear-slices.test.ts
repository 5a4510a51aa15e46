/**
 * The ground-truth provider's re-hearing of exact slices (test/provider/rehear-slices.ts): an upload cut sample for
 * sample from uploads it located before is placed through them, and anything else is left to the locator.
 */
import { describe, expect, it } from "vitest";
import type { Recording } from "../audio/recording.js";
import type { LocatedPiece } from "../provider/locator.js";
import { RehearSlices, soundStretches } from "../provider/rehear-slices.js";

/** Loud, never-repeating samples (no zeros), as speech is at the sample level. */
function noise(length: number, seed: number): Int16Array {
  const out = new Int16Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = ((state >>> 8) % 16000) - 8000 || 1;
  }
  return out;
}

function joined(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const first = { id: "first" } as Recording;
const second = { id: "second" } as Recording;

describe("RehearSlices", () => {
  // An upload heard before: its first half found in one recording, its second in another.
  const heard = noise(32_000, 7);
  const heardPieces: LocatedPiece[] = [
    { recording: first, uploadStart: 0, uploadEnd: 16_000, offset: 5_000 },
    { recording: second, uploadStart: 16_000, uploadEnd: 32_000, offset: 100 },
  ];

  it("places slices laid out between silences through the upload they were cut from", () => {
    // Prepare: a probe-like upload: silence, a slice of the first half, silence, a slice across both halves
    const rehear = new RehearSlices();
    rehear.add(heard, heardPieces);
    const upload = joined(new Int16Array(4_000), heard.subarray(1_000, 9_000), new Int16Array(4_000), heard.subarray(15_000, 17_000), new Int16Array(1_000));

    // Act
    const pieces = rehear.place(upload);

    // Assess: each upload sample maps to the recording sample its source sample did
    expect(pieces).toEqual([
      { recording: first, uploadStart: 4_000, uploadEnd: 12_000, offset: 5_000 + (1_000 - 4_000) },
      { recording: first, uploadStart: 16_000, uploadEnd: 17_000, offset: 5_000 + (15_000 - 16_000) },
      { recording: second, uploadStart: 17_000, uploadEnd: 18_000, offset: 100 + (15_000 - 16_000) },
    ]);
  });

  it("leaves an upload with audio it never heard, or not whole from one upload, to the locator", () => {
    const rehear = new RehearSlices();
    rehear.add(heard, heardPieces);
    const unknown = joined(new Int16Array(2_000), heard.subarray(0, 4_000), new Int16Array(2_000), noise(4_000, 99));
    const spliced = joined(heard.subarray(0, 2_000), heard.subarray(20_000, 22_000));

    expect(rehear.place(unknown)).toBeUndefined();
    expect(rehear.place(spliced)).toBeUndefined();
    expect(new RehearSlices().place(heard)).toBeUndefined();
  });

  it("finds stretches of sound between runs of exact zeros, short zero runs inside them", () => {
    const samples = joined(new Int16Array(500), noise(100, 1), new Int16Array(50), noise(100, 2), new Int16Array(300), noise(10, 3));

    expect(soundStretches(samples)).toEqual([
      [500, 750],
      [1_050, 1_060],
    ]);
    expect(soundStretches(new Int16Array(1_000))).toEqual([]);
  });
});
