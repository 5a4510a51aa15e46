import { describe, expect, it } from "vitest";
import { EnvelopeMeter } from "../../shared/audio/decode-pcm.js";
import { EnvelopeWindow, pcmEnvelope } from "../../shared/audio/envelope.js";
import { PcmWindow } from "../../shared/audio/pcm-window.js";

const FRAME = EnvelopeMeter.FRAME_SAMPLES;

/** A recording with loud, quiet and silent stretches, fed in uneven chunks as a pipe delivers it. */
function recording(samples: number): Buffer {
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const loudness = Math.floor(i / 5000) % 3 === 2 ? 0 : Math.floor(i / 5000) % 3 === 1 ? 40 : 9000;
    pcm.writeInt16LE(Math.round(loudness * Math.sin(i * 0.07) + (loudness ? ((i * 31) % 17) - 8 : 0)), i * 2);
  }
  return pcm;
}

function feed(pcm: Buffer): { window: PcmWindow; envelopes: EnvelopeWindow; total: number } {
  const window = new PcmWindow();
  const envelopes = new EnvelopeWindow();
  const meter = new EnvelopeMeter();
  for (let at = 0, size = 999; at < pcm.length; at += size, size = 999 + ((size * 7) % 5003)) {
    envelopes.append(meter.push(window.append(pcm.subarray(at, Math.min(pcm.length, at + size)))));
  }
  envelopes.append(meter.flush());
  envelopes.end(window.endSample);
  return { window, envelopes, total: window.endSample };
}

describe("EnvelopeWindow", () => {
  it("cuts a segment's envelope from the recording's frames, byte for byte what measuring its PCM gives", () => {
    // Prepare: 123 frames and a partial one.
    const { window, envelopes, total } = feed(recording(123 * FRAME + 77));

    // Act + Assess: starts on the frame grid, ends on it or at the recording's end.
    for (const [from, to] of [
      [0, 40 * FRAME],
      [10 * FRAME, 100 * FRAME],
      [64 * FRAME, total],
      [0, total],
    ]) {
      const cut = envelopes.slice(from, to);
      expect(cut).not.toBeNull();
      expect(Array.from(cut!)).toEqual(Array.from(pcmEnvelope(window.slice(from, to))));
    }
  });

  it("declines what it cannot cut exactly: off-grid starts, partial frames before the end, dropped frames", () => {
    // Prepare
    const { envelopes, total } = feed(recording(50 * FRAME + 3));

    // Act
    const offGrid = envelopes.slice(FRAME + 5, 20 * FRAME);
    const partialInside = envelopes.slice(0, 20 * FRAME + 5);
    envelopes.dropBefore(10 * FRAME);
    const dropped = envelopes.slice(5 * FRAME, 20 * FRAME);
    const kept = envelopes.slice(10 * FRAME, total);

    // Assess
    expect(offGrid).toBeNull();
    expect(partialInside).toBeNull();
    expect(dropped).toBeNull();
    expect(kept).toHaveLength(41);
  });
});
