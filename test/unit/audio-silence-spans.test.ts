import { describe, expect, it } from "vitest";
import { SpanSilencer } from "../../shared/audio/silence-spans.js";

/** Runs interleaved s16le PCM through the silencer in chunks of `chunkBytes`. */
async function silence(pcm: Int16Array, rate: number, channels: number, spans: Array<{ start: number; end: number }>, chunkBytes: number): Promise<Int16Array> {
  const silencer = new SpanSilencer(rate, channels, spans);
  const out: Buffer[] = [];
  silencer.on("data", (b: Buffer) => out.push(Buffer.from(b)));
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  for (let i = 0; i < bytes.length; i += chunkBytes) silencer.write(bytes.subarray(i, i + chunkBytes));
  await new Promise<void>((resolve) => silencer.end(resolve));
  const all = Buffer.concat(out);
  return new Int16Array(all.buffer, all.byteOffset, all.length / 2);
}

describe("SpanSilencer: silence exact to the sample", () => {
  it("zeroes every sample from floor(start × rate) to ceil(end × rate), whatever the chunk sizes", async () => {
    // Prepare: 1 s of 1000 Hz mono, all ones
    const pcm = new Int16Array(1000).fill(1);
    const spans = [{ start: 0.1005, end: 0.2 }, { start: 0.5, end: 0.5004 }];
    for (const chunkBytes of [1, 3, 64, 2000]) {
      // Act
      const out = await silence(pcm, 1000, 1, spans, chunkBytes);

      // Assess
      expect(out.length).toBe(1000);
      const zeros = [...out.keys()].filter((i) => out[i] === 0);
      expect(zeros).toEqual([...Array.from({ length: 100 }, (_, k) => 100 + k), 500]);
    }
  });

  it("silences every channel of a frame, and overlapping or unsorted spans once", async () => {
    // Prepare: stereo, 100 frames
    const pcm = new Int16Array(200).fill(7);

    // Act
    const out = await silence(pcm, 100, 2, [{ start: 0.5, end: 0.6 }, { start: 0.1, end: 0.2 }, { start: 0.15, end: 0.25 }], 6);

    // Assess
    const silentFrames = Array.from({ length: 100 }, (_, f) => f).filter((f) => out[2 * f] === 0 && out[2 * f + 1] === 0);
    expect(silentFrames).toEqual([...Array.from({ length: 15 }, (_, k) => 10 + k), ...Array.from({ length: 10 }, (_, k) => 50 + k)]);
    expect(out.filter((v) => v !== 0 && v !== 7)).toHaveLength(0);
  });
});
