import { afterAll, describe, expect, it } from "vitest";
import { encodeFlacPcm } from "../../shared/audio/flac-encoder.js";
import { FlacEncoderPool } from "../../shared/audio/flac-pool.js";

function tone(samples: number, seed: number): Buffer {
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const value = 8000 * Math.sin((i * (seed + 1) * 0.013) % (2 * Math.PI)) + ((i * 7919 + seed * 104729) % 401) - 200;
    pcm.writeInt16LE(Math.round(value), i * 2);
  }
  return pcm;
}

describe("FlacEncoderPool", () => {
  const pool = new FlacEncoderPool(2);
  afterAll(() => pool.close());

  it("encodes on worker threads, byte for byte what encodeFlacPcm gives", async () => {
    // Prepare
    const inputs = [tone(16000 * 5, 1), tone(16000 * 3 + 777, 2), tone(4095, 3), tone(16000 * 5, 4), tone(10, 5)];
    const expected = inputs.map((pcm) => encodeFlacPcm(pcm));

    // Act: more segments than workers, handed over as pcmBuffers (moved, and recycled after).
    const encoded = await Promise.all(
      inputs.map((pcm) => {
        const buffer = pool.pcmBuffer(pcm.length);
        pcm.copy(buffer);
        return pool.encode(buffer);
      }),
    );

    // Assess
    expect(pool.degraded).toBeNull();
    encoded.forEach((flac, i) => expect(flac.equals(expected[i])).toBe(true));
  });

  it("takes any Buffer, copying what it cannot move, and leaves the caller's memory alone", async () => {
    // Prepare: a view into a larger buffer (Node's small Buffers share one), which must not be moved away.
    const backing = tone(16000, 6);
    const view = backing.subarray(320, 320 + 16000);
    const before = Buffer.from(backing);

    // Act
    const flac = await pool.encode(view);

    // Assess
    expect(flac.equals(encodeFlacPcm(before.subarray(320, 320 + 16000)))).toBe(true);
    expect(backing.byteLength).toBe(before.byteLength);
    expect(backing.equals(before)).toBe(true);
  });

  it("encodes in process, and says why, when no worker can start", async () => {
    // Prepare
    const stranded = new FlacEncoderPool(1, () => ({ url: new URL("./no-such-worker.mjs", import.meta.url), options: {} }));
    const pcm = tone(16000, 8);

    // Act
    const flacs = await Promise.all([stranded.encode(Buffer.from(pcm)), stranded.encode(Buffer.from(pcm))]);

    // Assess
    expect(stranded.degraded).toMatch(/could not start/);
    for (const flac of flacs) expect(flac.equals(encodeFlacPcm(pcm))).toBe(true);
    await stranded.close();
  });

  it("refuses work once closed", async () => {
    // Prepare
    const closing = new FlacEncoderPool(1);
    await closing.warm();

    // Act
    await closing.close();

    // Assess
    await expect(closing.encode(tone(100, 7))).rejects.toThrow(/closed/);
  });
});
