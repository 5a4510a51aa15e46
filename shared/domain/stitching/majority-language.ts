import type { SegmentResult } from "../types.js";
import { normalizeLanguage } from "../options/languages.js";

/**
 * The language most segments were detected in, as an ISO 639-1 code when it
 * has one (Whisper answers "english"). Each segment's vote is weighted by its
 * text length, so a short segment of music detected as Welsh does not swing it.
 */
export function majorityLanguage(results: readonly SegmentResult[]): string | null {
  const votes = new Map<string, number>();
  for (const r of results) {
    const raw = r.language?.trim();
    if (!raw) continue;
    const language = normalizeLanguage(raw) ?? raw.toLowerCase();
    votes.set(language, (votes.get(language) ?? 0) + 1 + r.text.length);
  }
  let best: string | null = null;
  for (const [language, weight] of votes) if (best === null || weight > (votes.get(best) ?? 0)) best = language;
  return best;
}
