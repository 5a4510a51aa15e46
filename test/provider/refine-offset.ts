/**
 * Step 3: the frame-level placement is only good to about ±10 ms; cross-correlating the waveforms
 * around it finds the sample offset (exact for lossless uploads, close for lossy ones). If the
 * waveform was changed too much to correlate, the frame-level offset stands.
 */
import { FRAME_SAMPLES } from "./envelope.js";

const SEARCH_SAMPLES = 240;
const WINDOW_SAMPLES = 8000;
/** Below this normalized correlation the waveforms are not the same sound any more. */
const MIN_CORRELATION = 0.5;

export function refineOffset(
  upload: Int16Array,
  recording: Int16Array,
  uploadStart: number,
  uploadEnd: number,
  offsetFrames: number,
): number {
  const coarse = offsetFrames * FRAME_SAMPLES;
  const [from, to] = loudestWindow(upload, uploadStart, uploadEnd);
  if (to - from < FRAME_SAMPLES) return coarse;
  let uploadEnergy = 0;
  for (let i = from; i < to; i++) uploadEnergy += upload[i] * upload[i];
  if (uploadEnergy === 0) return coarse;
  // A lossless upload (the realtime gateway's WAV pieces, FLAC) holds the recording's samples as they
  // are: a lag where the whole window matches sample for sample has correlation 1, the best there is.
  // Found in a few comparisons per lag instead of a window's worth, and never missed, where the search
  // below (every second lag first) can settle a few samples off a sharp peak.
  const exact = exactLag(upload, recording, from, to, coarse);
  if (exact !== undefined) return coarse + exact;

  // Every second lag first, then the neighbours of the best: the correlation peak of speech is
  // wider than two samples, and this halves the work.
  let best = { lag: 0, correlation: -Infinity };
  const tryLag = (lag: number): void => {
    const correlation = correlationAt(upload, recording, from, to, coarse + lag, uploadEnergy);
    if (correlation > best.correlation) best = { lag, correlation };
  };
  for (let lag = -SEARCH_SAMPLES; lag <= SEARCH_SAMPLES; lag += 2) tryLag(lag);
  const coarseBest = best.lag;
  tryLag(coarseBest - 1);
  tryLag(coarseBest + 1);
  const { lag: bestLag, correlation: bestCorrelation } = best;
  return bestCorrelation >= MIN_CORRELATION ? coarse + bestLag : coarse;
}

/** The first lag within the search range at which the window equals the recording sample for sample. */
function exactLag(upload: Int16Array, recording: Int16Array, from: number, to: number, coarse: number): number | undefined {
  // Lags are ruled out on the window's loudest sample first: silence matches silence at every lag.
  let pivot = from;
  for (let i = from; i < to; i++) if (Math.abs(upload[i]) > Math.abs(upload[pivot])) pivot = i;
  for (let lag = -SEARCH_SAMPLES; lag <= SEARCH_SAMPLES; lag++) {
    const shift = coarse + lag;
    if (from + shift < 0 || to + shift > recording.length || upload[pivot] !== recording[pivot + shift]) continue;
    let i = from;
    while (i < to && upload[i] === recording[i + shift]) i++;
    if (i === to) return lag;
  }
  return undefined;
}

function correlationAt(
  upload: Int16Array,
  recording: Int16Array,
  from: number,
  to: number,
  shift: number,
  uploadEnergy: number,
): number {
  if (from + shift < 0 || to + shift > recording.length) return -Infinity;
  let product = 0;
  let recordingEnergy = 0;
  for (let i = from; i < to; i++) {
    const r = recording[i + shift];
    product += upload[i] * r;
    recordingEnergy += r * r;
  }
  return recordingEnergy > 0 ? product / Math.sqrt(uploadEnergy * recordingEnergy) : 0;
}

/** Up to half a second of the piece, placed where it is loudest, so the correlation has speech to work on. */
function loudestWindow(upload: Int16Array, start: number, end: number): [number, number] {
  const length = Math.min(WINDOW_SAMPLES, end - start);
  if (length <= 0) return [start, start];
  let bestStart = start;
  let bestEnergy = -1;
  const step = FRAME_SAMPLES * 5;
  for (let at = start; at + length <= end; at += step) {
    let energy = 0;
    for (let i = at; i < at + length; i += 4) energy += upload[i] * upload[i];
    if (energy > bestEnergy) {
      bestEnergy = energy;
      bestStart = at;
    }
  }
  return [bestStart, bestStart + length];
}
