/**
 * What the realtime benchmark streams: generated conversations of long turns (10-30 s of speech each,
 * the case where live deltas matter), one seed per session, with turn pauses longer than the gateway's
 * VAD hangover so that a turn is an utterance. Plain specs, so the provider's process builds the same
 * recordings from them (generation is deterministic) and no audio crosses the IPC channel.
 */
import type { ConversationSpec } from "../test/audio/conversation.js";
import { mixSeed, seededRandom } from "../test/audio/seeded-random.js";

/** Seconds per word of generated speech: the clip bank's mean word (0.46 s) and the mean pause between words. */
const SECONDS_PER_WORD = 0.46 + (0.08 + 0.25) / 2;
export const TURN_SECONDS: [number, number] = [10, 30];
/** Longer than the VAD's 500 ms hangover (docs/realtime.md): each turn ends an utterance. */
export const TURN_GAP_SECONDS: [number, number] = [0.8, 1.5];
export const VOICES = 3;
export const NOISE_DB = -60;
/** A turn shorter than this at the end is not worth starting. */
const MIN_LAST_TURN_WORDS = 6;

export function realtimeConversation(seed: number, seconds: number): ConversationSpec {
  const random = seededRandom(mixSeed("realtime-bench", seed));
  const turns: Array<{ speaker: number; words: number }> = [];
  // Aim a little short: the builder pads a short script with silence up to the duration, but never cuts a long one.
  let left = seconds - 1.5;
  let speaker = random.int(1, VOICES);
  while (left > 0) {
    const wanted = Math.round(random.between(...TURN_SECONDS) / SECONDS_PER_WORD);
    const words = Math.min(wanted, Math.floor(left / SECONDS_PER_WORD));
    if (words < MIN_LAST_TURN_WORDS) break;
    turns.push({ speaker, words });
    left -= words * SECONDS_PER_WORD + (TURN_GAP_SECONDS[0] + TURN_GAP_SECONDS[1]) / 2;
    speaker = 1 + ((speaker - 1 + random.int(1, VOICES - 1)) % VOICES);
  }
  // A room's noise floor: real recordings are never digital zero, and no two sessions repeat sample for
  // sample (without it, a lone word's samples recur across the generated sessions, which no real audio does).
  return { seed, voices: VOICES, durationSeconds: seconds, turns, turnGapSeconds: TURN_GAP_SECONDS, noiseDb: NOISE_DB };
}
