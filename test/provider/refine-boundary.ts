/**
 * Step 4: a switch between pieces is found at frame level, and the 40 ms envelope window pulls it
 * ~20 ms early. Here the sample where one explanation of the waveform hands over to the next is
 * found by least squares: before it, the upload best matches the left placement (or silence), after
 * it the right one.
 */

const SEARCH_SAMPLES = 480;

/** Recording sample = upload sample + offset; null explains the audio as nothing (silence). */
export interface Explanation {
  samples: Int16Array;
  offset: number;
}

export function refineBoundary(
  upload: Int16Array,
  boundary: number,
  left: Explanation | null,
  right: Explanation | null,
  limits: { min: number; max: number },
): number {
  const from = Math.max(limits.min, boundary - SEARCH_SAMPLES);
  const to = Math.min(limits.max, boundary + SEARCH_SAMPLES);
  if (to - from < 2) return boundary;
  // leftCost[i]: error of the left explanation over [from, from + i); rightCost likewise from the end.
  const length = to - from;
  const leftCost = new Float64Array(length + 1);
  const rightCost = new Float64Array(length + 1);
  for (let i = 0; i < length; i++) leftCost[i + 1] = leftCost[i] + residual(upload, from + i, left);
  for (let i = length - 1; i >= 0; i--) rightCost[i] = rightCost[i + 1] + residual(upload, from + i, right);
  let best = boundary - from;
  let bestCost = Infinity;
  for (let i = 0; i <= length; i++) {
    const cost = leftCost[i] + rightCost[i];
    // Ties only happen inside silence, where no word can be cut, so the first minimum will do.
    if (cost < bestCost) {
      bestCost = cost;
      best = i;
    }
  }
  return from + best;
}

function residual(upload: Int16Array, at: number, explanation: Explanation | null): number {
  const recordingAt = explanation ? at + explanation.offset : -1;
  const predicted =
    explanation && recordingAt >= 0 && recordingAt < explanation.samples.length ? explanation.samples[recordingAt] : 0;
  const error = upload[at] - predicted;
  return error * error;
}
