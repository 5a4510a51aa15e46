/**
 * Regenerates test/audio/clips/ from espeak-ng. The only script that needs espeak-ng; its output is
 * committed so tests and users never do. Run: npx tsx test/audio/make-clips.ts
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClipPackIndex, ClipLocation } from "./clip-pack.js";
import { bufferToSamples, ffmpegPath, SAMPLE_RATE, samplesToBuffer } from "./ffmpeg.js";
import { normalizeLoudness, trimSilence } from "./trim-silence.js";
import { VOCABULARY } from "./vocabulary.js";
import { VOICES, type VoiceDefinition } from "./voices.js";

const clipsDir = join(dirname(fileURLToPath(import.meta.url)), "clips");

function assertVocabularyIsDistinct(): void {
  const seen = new Set<string>();
  for (const word of VOCABULARY) {
    const key = word.toLowerCase();
    if (seen.has(key)) throw new Error(`vocabulary repeats "${word}"`);
    seen.add(key);
  }
}

function speakWord(voice: VoiceDefinition, word: string, workDir: string): Int16Array {
  const wavPath = join(workDir, "word.wav");
  execFileSync("espeak-ng", [
    "-v", voice.espeakVoice, "-p", String(voice.pitch), "-s", String(voice.speed), "-w", wavPath, word,
  ]);
  // espeak speaks at 22.05 kHz; resample once here so every consumer sees 16 kHz.
  const pcm = execFileSync(ffmpegPath, [
    "-hide_banner", "-loglevel", "error", "-i", wavPath, "-ac", "1", "-ar", String(SAMPLE_RATE), "-f", "s16le", "-",
  ]);
  return bufferToSamples(pcm);
}

function packVoice(voice: VoiceDefinition, workDir: string): void {
  const clips: Record<string, ClipLocation> = {};
  const pieces: Int16Array[] = [];
  let offset = 0;
  for (const word of VOCABULARY) {
    const clip = normalizeLoudness(trimSilence(speakWord(voice, word, workDir)));
    if (clip.length === 0) throw new Error(`${voice.id} produced silence for "${word}"`);
    clips[word] = { offset, length: clip.length };
    pieces.push(clip);
    offset += clip.length;
  }
  const all = new Int16Array(offset);
  let at = 0;
  for (const piece of pieces) {
    all.set(piece, at);
    at += piece.length;
  }
  execFileSync(
    ffmpegPath,
    [
      "-hide_banner", "-loglevel", "error", "-y", "-f", "s16le", "-ar", String(SAMPLE_RATE), "-ac", "1", "-i", "-",
      "-c:a", "flac", "-compression_level", "12", join(clipsDir, `${voice.id}.flac`),
    ],
    { input: samplesToBuffer(all) },
  );
  const index: ClipPackIndex = { voice, sampleRate: SAMPLE_RATE, clips };
  writeFileSync(join(clipsDir, `${voice.id}.json`), JSON.stringify(index, null, 1) + "\n");
  console.log(`${voice.id}: ${VOCABULARY.length} clips, ${(offset / SAMPLE_RATE).toFixed(1)} s`);
}

function main(): void {
  assertVocabularyIsDistinct();
  const workDir = mkdtempSync(join(tmpdir(), "make-clips-"));
  try {
    for (const voice of VOICES) packVoice(voice, workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main();
