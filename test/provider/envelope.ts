/**
 * Loudness over time in 10 ms frames: the fingerprint the locator matches on. Energy survives lossy
 * codecs, resampling and channel mixing far better than the waveform does.
 */

import { SAMPLE_RATE } from "../audio/ffmpeg.js";

/**
 * 10 ms: the precision the provider needs, and the unit of the locator's tolerances (candidates.ts). The
 * stand-in's own choice, not read from the pipeline's envelope (shared/audio/decode-pcm.ts), so that a change
 * there is measured against this provider rather than carried into it.
 */
export const FRAME_SAMPLES = SAMPLE_RATE / 100;
export const FLOOR_DB = -80;
/** Frames louder than this are "sound". Speech clips sit around -20 dBFS; noise floors well below. */
export const SOUND_DB = -45;

/**
 * Two numbers per 10 ms frame. Loudness: energy in dBFS. Brightness: the share of that energy in the
 * upper band (energy of the first difference relative to the energy, in dB), which tells vowels from
 * hiss and one voice from another; loudness alone cannot, because every clip is equally loud.
 */
export interface Envelope {
  length: number;
  loudness: Float32Array;
  brightness: Float32Array;
}

/**
 * Each frame is measured over a 40 ms window around it. Low voices have pitch periods of 15-20 ms;
 * a bare 10 ms window would swing by 10 dB depending on where the frame grid falls, and an upload is
 * cut at any sample, so its grid never lines up with the recording's.
 */
export function frameEnvelope(samples: Int16Array): Envelope {
  const subframes = Math.floor(samples.length / SUBFRAME_SAMPLES);
  const subEnergy = new Float64Array(subframes);
  const subDifference = new Float64Array(subframes);
  for (let sub = 0, at = 0; sub < subframes; sub++) {
    let energy = 0;
    let difference = 0;
    for (const end = at + SUBFRAME_SAMPLES; at < end; at++) {
      const value = samples[at];
      const step = value - (at > 0 ? samples[at - 1] : 0);
      energy += value * value;
      difference += step * step;
    }
    subEnergy[sub] = energy;
    subDifference[sub] = difference;
  }
  const frames = Math.floor(samples.length / FRAME_SAMPLES);
  const loudness = new Float32Array(frames);
  const brightness = new Float32Array(frames);
  const perFrame = FRAME_SAMPLES / SUBFRAME_SAMPLES;
  for (let frame = 0; frame < frames; frame++) {
    const from = Math.max(0, frame * perFrame - WINDOW_LEAD_SUBFRAMES);
    const to = Math.min(subframes, frame * perFrame + perFrame + WINDOW_LAG_SUBFRAMES);
    let energy = 0;
    let difference = 0;
    for (let sub = from; sub < to; sub++) {
      energy += subEnergy[sub];
      difference += subDifference[sub];
    }
    const fullScale = 32768 * 32768 * SUBFRAME_SAMPLES * (to - from);
    loudness[frame] = Math.max(FLOOR_DB, 10 * Math.log10(energy / fullScale + 1e-12));
    brightness[frame] = 10 * Math.log10((difference + 1) / (energy + 1));
  }
  return { length: frames, loudness, brightness };
}

const SUBFRAME_SAMPLES = 80;
/** The 40 ms window: 10 ms before the frame, the frame, 20 ms after (in 5 ms sub-frames). */
const WINDOW_LEAD_SUBFRAMES = 2;
const WINDOW_LAG_SUBFRAMES = 4;

/** A stretch of sound between pauses, in frames: usually a word, sometimes part of one. */
export interface SoundEvent {
  start: number;
  length: number;
  /** Cut by the start or end of the envelope, so its length says nothing about the word. */
  touchesEdge: boolean;
}

/** Pauses shorter than this (frames) are stop closures inside a word, not gaps between words. */
const MERGE_GAP_FRAMES = 3;
/** Shorter bursts are clicks or codec artefacts. */
const MIN_EVENT_FRAMES = 3;

export function soundEvents({ loudness: envelope }: Envelope): SoundEvent[] {
  const events: SoundEvent[] = [];
  let frame = 0;
  while (frame < envelope.length) {
    if (envelope[frame] <= SOUND_DB) {
      frame++;
      continue;
    }
    const start = frame;
    let lastSound = frame;
    while (frame < envelope.length && frame - lastSound <= MERGE_GAP_FRAMES) {
      if (envelope[frame] > SOUND_DB) lastSound = frame;
      frame++;
    }
    const length = lastSound + 1 - start;
    if (length >= MIN_EVENT_FRAMES) {
      // Within a merge gap of an edge the word may go on beyond it, so the length is unreliable.
      const touchesEdge = start <= MERGE_GAP_FRAMES || lastSound >= envelope.length - 1 - MERGE_GAP_FRAMES;
      events.push({ start, length, touchesEdge });
    }
    frame = lastSound + 1;
  }
  return events;
}
