/**
 * Cuts a synthesized word down to where it is audible, so "the word starts here" in truth data
 * means the first audible sample, not the synthesizer's padding.
 */

/** Samples quieter than this fraction of the clip's peak (-40 dB) count as silence. */
const SILENCE_FRACTION_OF_PEAK = 0.01;
/** A short fade keeps the cut from clicking; 2 ms is too short to move perceived timing. */
const FADE_SAMPLES = 32;

export function trimSilence(samples: Int16Array): Int16Array {
  let peak = 0;
  for (const value of samples) peak = Math.max(peak, Math.abs(value));
  if (peak === 0) return new Int16Array(0);
  const threshold = peak * SILENCE_FRACTION_OF_PEAK;
  let first = 0;
  while (first < samples.length && Math.abs(samples[first]) <= threshold) first++;
  let last = samples.length - 1;
  while (last > first && Math.abs(samples[last]) <= threshold) last--;
  const trimmed = samples.slice(first, last + 1);
  applyFades(trimmed);
  return trimmed;
}

function applyFades(samples: Int16Array): void {
  const fade = Math.min(FADE_SAMPLES, Math.floor(samples.length / 4));
  for (let i = 0; i < fade; i++) {
    const gain = (i + 1) / (fade + 1);
    samples[i] = Math.round(samples[i] * gain);
    samples[samples.length - 1 - i] = Math.round(samples[samples.length - 1 - i] * gain);
  }
}

/** Scales a clip to a common loudness (RMS -20 dBFS) without letting its peak pass -1 dBFS. */
export function normalizeLoudness(samples: Int16Array): Int16Array {
  let sumSquares = 0;
  let peak = 0;
  for (const value of samples) {
    sumSquares += value * value;
    peak = Math.max(peak, Math.abs(value));
  }
  if (peak === 0) return samples;
  const rms = Math.sqrt(sumSquares / samples.length);
  const gainForRms = (32768 * 10 ** (-20 / 20)) / rms;
  const gainForPeak = (32767 * 10 ** (-1 / 20)) / peak;
  const gain = Math.min(gainForRms, gainForPeak);
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.round(samples[i] * gain);
  return out;
}
