import { BYTES_PER_SAMPLE, SAMPLE_RATE } from "./ffmpeg.js";

/**
 * PCM16 as a WAV file (mono unless `channels` says how many are interleaved): every provider reads it, and it
 * costs no encoder process.
 */
export function wavBytes(pcm: Buffer | Int16Array, sampleRate = SAMPLE_RATE, channels = 1): Buffer {
  const data = Buffer.isBuffer(pcm) ? pcm : Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * BYTES_PER_SAMPLE * channels, 28);
  header.writeUInt16LE(BYTES_PER_SAMPLE * channels, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
