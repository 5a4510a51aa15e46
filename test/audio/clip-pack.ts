/** The on-disk shape of one packed voice: clips/<voice-id>.flac holds the samples, this index says where. */
import type { VoiceDefinition } from "./voices.js";

export interface ClipLocation {
  /** First sample of the word inside the voice's concatenated FLAC. */
  offset: number;
  /** Number of samples. */
  length: number;
}

export interface ClipPackIndex {
  voice: VoiceDefinition;
  sampleRate: 16000;
  clips: Record<string, ClipLocation>;
}
