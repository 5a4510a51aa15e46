/**
 * The packed espeak clips, decoded once per process: one FLAC per voice -> one Int16Array, and each
 * word a subarray view of it (no copies).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClipPackIndex } from "./clip-pack.js";
import { decodeFileToPcmSync } from "./ffmpeg.js";
import { VOCABULARY } from "./vocabulary.js";
import { VOICES } from "./voices.js";

const clipsDir = join(dirname(fileURLToPath(import.meta.url)), "clips");

export interface ClipBank {
  /** Voice ids in a fixed order: speaker S1 uses voiceIds[0], S2 voiceIds[1], ... */
  voiceIds: readonly string[];
  words: readonly string[];
  /** The trimmed samples of one word spoken by one voice (a view: do not modify). */
  clip(voiceId: string, word: string): Int16Array;
}

let cached: ClipBank | undefined;

export function loadClipBank(): ClipBank {
  cached ??= decodeAllVoices();
  return cached;
}

function decodeAllVoices(): ClipBank {
  const clipsByVoice = new Map<string, Map<string, Int16Array>>();
  for (const voice of VOICES) {
    const index = JSON.parse(readFileSync(join(clipsDir, `${voice.id}.json`), "utf8")) as ClipPackIndex;
    const samples = decodeFileToPcmSync(join(clipsDir, `${voice.id}.flac`));
    const clips = new Map<string, Int16Array>();
    for (const [word, at] of Object.entries(index.clips)) {
      if (at.offset + at.length > samples.length) throw new Error(`${voice.id}.json points past the end of its FLAC`);
      clips.set(word, samples.subarray(at.offset, at.offset + at.length));
    }
    clipsByVoice.set(voice.id, clips);
  }
  const words = VOCABULARY.filter((word) => [...clipsByVoice.values()].every((clips) => clips.has(word)));
  return {
    voiceIds: VOICES.map((voice) => voice.id),
    words,
    clip(voiceId, word) {
      const found = clipsByVoice.get(voiceId)?.get(word);
      if (!found) throw new Error(`no clip for voice "${voiceId}" word "${word}"`);
      return found;
    },
  };
}
