/**
 * Measures how long the locator takes to find chunks inside a 1-hour recording (lossless FLAC and
 * 64 kbit/s MP3). Not a test: timings depend on the machine. Run: npx tsx test/provider/measure-locate.ts
 */
import { buildConversation } from "../audio/conversation.js";
import { sliceRecording } from "../audio/edit.js";
import { encodeToBytes, type AudioFormat } from "../audio/write-audio.js";
import { decodeUpload } from "./decode-upload.js";
import { AudioLocator } from "./locator.js";

async function main(): Promise<void> {
  let started = performance.now();
  const hour = buildConversation({ seed: 99, voices: 4, durationSeconds: 3600, style: "meeting", noiseDb: -60 });
  console.log(`build 1 h conversation: ${(performance.now() - started).toFixed(0)} ms`);
  const locator = new AudioLocator();
  started = performance.now();
  locator.add(hour);
  console.log(`index 1 h recording: ${(performance.now() - started).toFixed(0)} ms`);

  for (const seconds of [30, 120]) {
    for (const format of ["flac", "mp3"] as AudioFormat[]) {
      const times: number[] = [];
      let worstError = 0;
      for (let trial = 0; trial < 8; trial++) {
        const from = 60 + trial * 431.7371;
        const upload = await decodeUpload(await encodeToBytes(sliceRecording(hour, from, from + seconds), format));
        started = performance.now();
        const pieces = locator.locate(upload);
        times.push(performance.now() - started);
        const error = pieces.length === 1 ? Math.abs(pieces[0].offset - Math.round(from * 16000)) / 16 : Infinity;
        worstError = Math.max(worstError, error);
      }
      times.sort((a, b) => a - b);
      console.log(
        `${seconds} s ${format}: median ${times[times.length >> 1].toFixed(0)} ms, max ${times[times.length - 1].toFixed(0)} ms, ` +
          `worst offset error ${worstError.toFixed(2)} ms`,
      );
    }
  }
}

void main();
