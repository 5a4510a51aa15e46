/**
 * Step 5: a placement may be carried a little past a splice point, because a short mismatch (the cut
 * tail of a word) costs less than switching. Here each piece is cut back, at the waveform level, to
 * where the upload stops being its recording: after its last well-explained sound, the first stretch
 * where the recording has sound the upload lacks (or differs) ends the piece; likewise at the start.
 */
import { FRAME_SAMPLES } from "./envelope.js";
import { refineBoundary, type Explanation } from "./refine-boundary.js";

/** Blocks quieter than this (mean square, about -50 dBFS) are silence on both sides. */
const SILENT_MEAN_SQUARE = (32768 * 10 ** (-50 / 20)) ** 2;
/** Lossy codecs leave a residual of roughly -10 to -20 dB; more than half the energy is another sound. */
const BAD_RESIDUAL_SHARE = 0.5;

type BlockFit = "silent" | "good" | "bad";

export function trimToEvidence(
  upload: Int16Array,
  start: number,
  end: number,
  explanation: Explanation,
): { start: number; end: number } {
  const blocks = Math.floor((end - start) / FRAME_SAMPLES);
  const fits: BlockFit[] = [];
  for (let block = 0; block < blocks; block++) fits.push(fitOf(upload, start + block * FRAME_SAMPLES, explanation));
  const firstGood = fits.indexOf("good");
  if (firstGood === -1) return { start, end };
  const lastGood = fits.lastIndexOf("good");

  let trimmedEnd = end;
  const badAfter = fits.indexOf("bad", lastGood);
  if (badAfter !== -1) {
    const at = start + badAfter * FRAME_SAMPLES;
    trimmedEnd = refineBoundary(upload, at, explanation, null, { min: at - FRAME_SAMPLES, max: at + FRAME_SAMPLES });
  }
  let trimmedStart = start;
  const badBefore = fits.lastIndexOf("bad", firstGood);
  if (badBefore !== -1) {
    const at = start + (badBefore + 1) * FRAME_SAMPLES;
    trimmedStart = refineBoundary(upload, at, null, explanation, { min: at - FRAME_SAMPLES, max: at + FRAME_SAMPLES });
  }
  return { start: trimmedStart, end: Math.max(trimmedStart, trimmedEnd) };
}

function fitOf(upload: Int16Array, from: number, explanation: Explanation): BlockFit {
  let recordingEnergy = 0;
  let uploadEnergy = 0;
  let residualEnergy = 0;
  for (let at = from; at < from + FRAME_SAMPLES; at++) {
    const recordingAt = at + explanation.offset;
    const predicted = recordingAt >= 0 && recordingAt < explanation.samples.length ? explanation.samples[recordingAt] : 0;
    const value = upload[at];
    recordingEnergy += predicted * predicted;
    uploadEnergy += value * value;
    residualEnergy += (value - predicted) * (value - predicted);
  }
  const loudest = Math.max(recordingEnergy, uploadEnergy) / FRAME_SAMPLES;
  if (loudest < SILENT_MEAN_SQUARE) return "silent";
  return residualEnergy > BAD_RESIDUAL_SHARE * Math.max(recordingEnergy, uploadEnergy) ? "bad" : "good";
}
