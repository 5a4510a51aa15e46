import type { SegmentResult, SpeakerMap } from "../types.js";
import type { LocalSpeaker } from "./link-speakers.js";
import { sortResults } from "../stitching/resolve-overlaps.js";
import { compareSpeakerLabels } from "./speaker-labels.js";

/** A stretch of one segment's audio, in segment-local seconds. */
export interface SpeakerSample {
  index: number;
  start: number;
  end: number;
}

export interface SpeakerSamples {
  /** Per settled global speaker (not those still provisional for an unresolved one). */
  global: Record<string, SpeakerSample[]>;
  unresolved: Array<LocalSpeaker & { samples: SpeakerSample[] }>;
}

export interface SpeakerSampleOptions {
  /** The `unresolved` answer of linkSpeakers; their provisional labels are sampled apart. */
  unresolved?: readonly LocalSpeaker[];
  /** Samples per speaker. Default 3. */
  perSpeaker?: number;
  /** Length of a good sample. Defaults 1.5 and 4 s. */
  minSeconds?: number;
  maxSeconds?: number;
}

interface SpeechUnit {
  start: number;
  end: number;
  speaker: string | null;
}

interface Candidate extends SpeakerSample {
  global: string;
  score: number;
}

/** Words further apart than this are not one stretch of speech. */
const MAX_GAP_SECONDS = 0.6;
/** Shortest sample worth sending when a speaker has no good one. */
const FALLBACK_MIN_SECONDS = 0.5;
/** Kept clear before the next speaker's first word: the probe audio is padded, and word starts are approximate. */
const OTHER_VOICE_MARGIN_SECONDS = 0.2;
/** Providers stretch a word's end over the following silence. */
const MAX_WORD_SECONDS = 2;

/**
 * Picks, for each speaker, a few clean stretches of their speech to build a
 * probe clip from: one speaker only, a couple of seconds long, with silence
 * around them, away from segment edges (where the provider heard least
 * context), spread over different segments when possible.
 */
export function speakerSamples(
  results: readonly SegmentResult[],
  map: SpeakerMap,
  opts: SpeakerSampleOptions = {},
): SpeakerSamples {
  const perSpeaker = opts.perSpeaker ?? 3;
  const minSeconds = opts.minSeconds ?? 1.5;
  const maxSeconds = opts.maxSeconds ?? 4;
  const candidates = sortResults(results).flatMap((r) => stretchesOf(r, map, maxSeconds));

  const pick = (global: string): SpeakerSample[] => {
    const own = candidates.filter((c) => c.global === global);
    const good = own.filter((c) => c.end - c.start >= minSeconds);
    const pool = good.length > 0 ? good : own.filter((c) => c.end - c.start >= FALLBACK_MIN_SECONDS);
    return choose(pool, perSpeaker).map(({ index, start, end }) => ({ index, start, end }));
  };

  const unresolved = (opts.unresolved ?? []).map((u) => ({ ...u, provisional: map[u.index]?.[u.label] }));
  const provisional = new Set(unresolved.map((u) => u.provisional));
  const globals = [...new Set(Object.values(map).flatMap((labels) => Object.values(labels)))].filter(
    (g) => !provisional.has(g),
  );
  return {
    global: Object.fromEntries(globals.sort(compareSpeakerLabels).map((g) => [g, pick(g)])),
    unresolved: unresolved.map(({ index, label, provisional: g }) => ({
      index,
      label,
      samples: g === undefined ? [] : pick(g),
    })),
  };
}

function stretchesOf(result: SegmentResult, map: SpeakerMap, maxSeconds: number): Candidate[] {
  const units = speechUnits(result);
  const labels = map[result.index] ?? {};
  const length = result.segment.end - result.segment.start;
  const ownFrom = result.segment.ownStart - result.segment.start;
  const ownTo = result.segment.ownEnd - result.segment.start;
  const out: Candidate[] = [];

  let i = 0;
  while (i < units.length) {
    const speaker = units[i].speaker;
    let j = i;
    while (
      j + 1 < units.length &&
      units[j + 1].speaker === speaker &&
      units[j + 1].start - units[j].end <= MAX_GAP_SECONDS &&
      units[j + 1].end - units[i].start <= maxSeconds
    ) j++;
    const global = speaker === null ? undefined : labels[speaker];
    if (global !== undefined) {
      const start = units[i].start;
      // A long span (text-only answers) is cut down to a sample's length; and a sample stops short of
      // another voice that follows at once, so no piece of it carries someone else's word.
      const nextOther = j + 1 < units.length && units[j + 1].speaker !== speaker ? units[j + 1].start - OTHER_VOICE_MARGIN_SECONDS : Infinity;
      const end = Math.max(start, Math.min(units[j].end, start + maxSeconds, nextOther));
      const quietBefore = i === 0 ? 1 : Math.min(1, start - units[i - 1].end);
      const quietAfter = j + 1 >= units.length ? 1 : Math.min(1, units[j + 1].start - end);
      const sameSpeakerAround =
        (i === 0 || units[i - 1].speaker === speaker) && (j + 1 >= units.length || units[j + 1].speaker === speaker);
      const edgeDistance = Math.min(start, length - end);
      const score =
        Math.min(end - start, 3) +
        quietBefore + quietAfter +
        (sameSpeakerAround ? 1 : 0) +
        (start >= ownFrom && end <= ownTo ? 2 : 0) +
        Math.min(edgeDistance, 5) / 5;
      out.push({ index: result.index, start, end, global, score });
    }
    i = j + 1;
  }
  return out;
}

function speechUnits(result: SegmentResult): SpeechUnit[] {
  const raw: SpeechUnit[] =
    result.words !== null
      ? result.words.map((w) => ({ start: w.start, end: w.end, speaker: w.speaker ?? null }))
      : result.spans.map((s) => ({ start: s.start, end: s.end, speaker: s.speaker ?? null }));
  const sorted = raw.sort((a, b) => a.start - b.start);
  const longest = result.words !== null ? MAX_WORD_SECONDS : Infinity;
  return sorted.map((u, k) => ({
    ...u,
    end: Math.max(u.start, Math.min(u.end, u.start + longest, sorted[k + 1]?.start ?? Infinity)),
  }));
}

/** Best first, one per segment before a second from the same segment, never overlapping. */
function choose(pool: readonly Candidate[], count: number): Candidate[] {
  const ranked = [...pool].sort((a, b) => b.score - a.score || a.index - b.index || a.start - b.start);
  const chosen: Candidate[] = [];
  const overlaps = (c: Candidate) => chosen.some((d) => d.index === c.index && c.start < d.end && d.start < c.end);
  for (const distinctSegments of [true, false]) {
    for (const c of ranked) {
      if (chosen.length >= count) return chosen;
      if (chosen.includes(c) || overlaps(c)) continue;
      if (distinctSegments && chosen.some((d) => d.index === c.index)) continue;
      chosen.push(c);
    }
  }
  return chosen;
}
