/**
 * Turns whatever was uploaded (any container, codec, rate or channel count; video too) into 16 kHz
 * mono samples, as the real service does before its model listens.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bufferToSamples, runFfmpeg, SAMPLE_RATE } from "../audio/ffmpeg.js";

export async function decodeUpload(bytes: Uint8Array): Promise<Int16Array> {
  // What ffmpeg would hand back unchanged, read directly: the realtime gateway sends every live piece as
  // such a WAV, and an ffmpeg process per piece was a third of this stand-in's CPU at 50 sessions.
  const pcm = plainWavSamples(bytes);
  if (pcm) return pcm;
  // A file, not a pipe: MP4/M4A keep their index at the end and need seeking.
  const dir = await mkdtemp(join(tmpdir(), "gt-upload-"));
  try {
    const path = join(dir, "upload");
    await writeFile(path, bytes);
    const pcm = await runFfmpeg(["-i", path, "-map", "0:a:0", "-ac", "1", "-ar", String(SAMPLE_RATE), "-f", "s16le", "-"]);
    return bufferToSamples(pcm);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/**
 * The samples of a RIFF/WAVE file that already is 16 kHz mono PCM16 (ffmpeg's -ac 1 -ar 16000 -f s16le
 * would copy them as they are), or undefined for anything else, which ffmpeg decodes.
 */
export function plainWavSamples(bytes: Uint8Array): Int16Array | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < 12 || view.toString("ascii", 0, 4) !== "RIFF" || view.toString("ascii", 8, 12) !== "WAVE") return undefined;
  let plain = false;
  for (let at = 12; at + 8 <= view.length; ) {
    const id = view.toString("ascii", at, at + 4);
    const size = view.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > view.length) return undefined;
      const format = view.readUInt16LE(body);
      // Extensible: the sub-format GUID starts with the plain format code.
      const code = format === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= view.length ? view.readUInt16LE(body + 24) : format;
      plain = code === WAVE_FORMAT_PCM && view.readUInt16LE(body + 2) === 1 && view.readUInt32LE(body + 4) === SAMPLE_RATE && view.readUInt16LE(body + 14) === 16;
      if (!plain) return undefined;
    } else if (id === "data") {
      if (!plain) return undefined;
      // A streamed WAV may leave the size unset (0 or all ones), and a cut file holds less than it says.
      const declared = size === 0 || size === 0xffffffff ? view.length - body : size;
      const length = Math.min(declared, view.length - body);
      const samples = new Int16Array(Math.floor(length / 2));
      Buffer.from(samples.buffer).set(view.subarray(body, body + samples.length * 2));
      return samples;
    }
    at = body + size + (size % 2);
  }
  return undefined;
}
