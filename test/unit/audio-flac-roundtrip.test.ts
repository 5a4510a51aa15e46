import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeFlacPcm } from "../../shared/audio/flac-encoder.js";
import { ffmpegPaths, SAMPLE_RATE } from "../../shared/audio/ffmpeg.js";

const workDir = mkdtempSync(join(tmpdir(), "stt-flac-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Deterministic uniform numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * Speech-like test audio: syllable-length bursts of filtered noise under a
 * rising and falling envelope, voiced stretches (a few harmonics of a
 * drifting pitch), digital silence between them, and quiet background
 * noise in places, so that every subframe kind the encoder writes shows up.
 */
function speechLike(seconds: number, seed: number): Int16Array {
  const rand = random(seed);
  const out = new Int16Array(Math.round(seconds * SAMPLE_RATE));
  let i = 0;
  while (i < out.length) {
    const kind = rand();
    const length = Math.min(out.length - i, Math.round((0.05 + 0.4 * rand()) * SAMPLE_RATE));
    if (kind < 0.3) {
      i += length; // digital silence
      continue;
    }
    const peak = 500 + 20000 * rand();
    const pitch = 90 + 200 * rand();
    let low = 0;
    for (let n = 0; n < length; n++, i++) {
      const envelope = Math.sin((Math.PI * n) / length);
      let value: number;
      if (kind < 0.6) {
        low = 0.8 * low + 0.2 * (2 * rand() - 1); // noise burst, low-passed
        value = 3 * low;
      } else if (kind < 0.9) {
        const phase = (2 * Math.PI * pitch * (1 + 0.1 * Math.sin(n / 3000)) * n) / SAMPLE_RATE;
        value = 0.6 * Math.sin(phase) + 0.25 * Math.sin(2 * phase) + 0.1 * Math.sin(3 * phase);
      } else {
        value = 0.002 * (2 * rand() - 1); // room noise
      }
      out[i] = Math.max(-32768, Math.min(32767, Math.round(peak * envelope * value)));
    }
  }
  return out;
}

function pcmOf(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

/** Decodes with the project's ffmpeg, frame CRCs checked: a bad frame is reported on stderr and dropped. */
function decodeWithFfmpeg(flac: Buffer, name: string): { pcm: Buffer; stderr: string; status: number | null } {
  const path = join(workDir, `${name}.flac`);
  writeFileSync(path, flac);
  const result = spawnSync(
    ffmpegPaths().ffmpeg,
    ["-v", "error", "-nostdin", "-err_detect", "crccheck+explode", "-i", path, "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  return { pcm: result.stdout, stderr: result.stderr.toString(), status: result.status };
}

/** STREAMINFO's MD5 of the samples: bytes 26-41 of the stream ("fLaC", the block header, then 18 bytes of fields). */
function streamInfoMd5(flac: Buffer): string {
  return flac.subarray(26, 42).toString("hex");
}

function md5(bytes: Buffer): string {
  return createHash("md5").update(bytes).digest("hex");
}

describe("encodeFlacPcm round trip through ffmpeg", () => {
  const cases: Array<{ name: string; samples: () => Int16Array }> = [
    { name: "two minutes of speech-like audio", samples: () => speechLike(124, 1) },
    { name: "a length that is not whole blocks", samples: () => speechLike(7.3, 2).subarray(0, 7 * SAMPLE_RATE + 1234) },
    { name: "a single short block", samples: () => speechLike(0.2, 3).subarray(0, 1000) },
    { name: "fewer samples than the predictor order", samples: () => Int16Array.of(5, -3, 32767) },
    {
      // Loud white noise: no predictor beats the raw samples, so its frames are written verbatim.
      name: "full-scale noise, silence and the sample extremes",
      samples: () => {
        const rand = random(4);
        const out = new Int16Array(3 * 4096 + 17);
        for (let i = 0; i < 4096; i++) out[i] = Math.floor(rand() * 65536) - 32768;
        out.fill(-32768, 8192, 8192 + 2000);
        out.fill(32767, 8192 + 2000, 12288);
        for (let i = 12288; i < out.length; i++) out[i] = i % 2 ? 32767 : -32768;
        return out;
      },
    },
  ];

  for (const { name, samples } of cases) {
    it(`gives back exactly the samples of ${name}, with their MD5 in STREAMINFO`, () => {
      // Prepare
      const pcm = pcmOf(samples());

      // Act
      const flac = encodeFlacPcm(pcm);
      const decoded = decodeWithFfmpeg(flac, name.replace(/\W+/g, "-"));

      // Assess
      expect(decoded.stderr).toBe("");
      expect(decoded.status).toBe(0);
      expect(decoded.pcm.length).toBe(pcm.length);
      expect(decoded.pcm.equals(pcm)).toBe(true);
      expect(streamInfoMd5(flac)).toBe(md5(pcm));
    });
  }

  it("compresses speech-like audio well below its PCM size", () => {
    // Prepare
    const pcm = pcmOf(speechLike(60, 5));

    // Act
    const flac = encodeFlacPcm(pcm);

    // Assess
    expect(flac.length).toBeLessThan(0.7 * pcm.length);
  });

  it("encodes PCM that starts at an odd byte offset", () => {
    // Prepare: a Buffer view one byte into its memory, as a slice of a larger buffer can be.
    const samples = pcmOf(speechLike(3, 6));
    const backing = Buffer.alloc(samples.length + 1);
    samples.copy(backing, 1);
    const odd = backing.subarray(1);

    // Act
    const flac = encodeFlacPcm(odd);

    // Assess
    expect(flac.equals(encodeFlacPcm(samples))).toBe(true);
    expect(decodeWithFfmpeg(flac, "odd-offset").pcm.equals(samples)).toBe(true);
  });
});
