/**
 * Turns whatever was uploaded (any container, codec, rate or channel count; video too) into 16 kHz
 * mono samples, as the real service does before its model listens.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bufferToSamples, runFfmpeg, SAMPLE_RATE } from "../audio/ffmpeg.js";

export async function decodeUpload(bytes: Uint8Array): Promise<Int16Array> {
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
