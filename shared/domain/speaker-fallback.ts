import type { SegmentResult, SpeakerMap } from "./types.js";
import type { LocalSpeaker } from "./link-speakers.js";

/**
 * For an unlinked speaker the probe could not settle (a single short word is
 * too little audio for any diarizer): the provider gave it a label of its own
 * in its segment, so it is none of that segment's other speakers. If exactly
 * one settled speaker is left, it is them; if several, the one heard nearest
 * in time. A phantom extra speaker for one word is worse than this guess.
 * Returns null when nobody is left (the voice is new).
 */
export function guessByExclusion(
  results: readonly SegmentResult[],
  map: SpeakerMap,
  unknown: LocalSpeaker,
  settled: readonly string[],
): string | null {
  const labels = map[unknown.index] ?? {};
  const present = new Set(Object.entries(labels).filter(([local]) => local !== unknown.label).map(([, g]) => g));
  const candidates = settled.filter((g) => !present.has(g));
  if (candidates.length <= 1) return candidates[0] ?? null;

  const result = results.find((r) => r.index === unknown.index);
  const at = (result?.segment.start ?? 0) + (result?.words?.find((w) => w.speaker === unknown.label)?.start ?? 0);
  let best: { global: string; distance: number } | null = null;
  for (const r of results) {
    for (const w of r.words ?? []) {
      const global = w.speaker ? map[r.index]?.[w.speaker] : undefined;
      if (!global || !candidates.includes(global)) continue;
      const distance = Math.abs(r.segment.start + w.start - at);
      if (!best || distance < best.distance) best = { global, distance };
    }
  }
  return best?.global ?? candidates[0];
}
