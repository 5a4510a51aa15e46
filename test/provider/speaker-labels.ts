/**
 * A per-request diarizer stand-in: each real voice in the upload gets one SPEAKER_nn label, numbered
 * in a random (seeded) order, so callers cannot rely on labels meaning anything across requests.
 */
import type { SeededRandom } from "../audio/seeded-random.js";

export function assignSpeakerLabels(
  voicesInOrder: string[],
  random: SeededRandom,
  maxSpeakers?: number,
): Map<string, string> {
  const distinct = [...new Set(voicesInOrder)];
  // Asked for fewer speakers than there are, a diarizer merges voices: some labels are shared.
  const labelCount = maxSpeakers && maxSpeakers > 0 ? Math.min(maxSpeakers, distinct.length) : distinct.length;
  const numbers = random.shuffle(Array.from({ length: labelCount }, (_, index) => index));
  const labels = new Map<string, string>();
  distinct.forEach((voice, index) => {
    labels.set(voice, `SPEAKER_${String(numbers[index % labelCount]).padStart(2, "0")}`);
  });
  return labels;
}
