import type { SegmentResult } from "../types.js";
import { placeWords, type PlacedWord } from "../words/segment-words.js";
import { alignTextOverlap, alignTimedWords, MATCH_TOLERANCE_SECONDS } from "../words/align-words.js";

/** One spoken word heard by both neighbours of a boundary. */
export interface MatchedPair {
  left: PlacedWord;
  right: PlacedWord;
  /** Positions in placeWords(left result) and placeWords(right result). */
  leftPosition: number;
  rightPosition: number;
}

/**
 * What the two segments around one cut heard in common. "timed" pairs come from
 * aligning word times and texts; "text" pairs from finding the tail of one text
 * at the head of the next (text-only answers), and then the words are spliced
 * at the middle pair instead of being owned by time.
 */
export interface BoundaryAlignment {
  /** SegmentResult.index on each side. */
  left: number;
  right: number;
  method: "timed" | "text";
  pairs: MatchedPair[];
  /** Text method with a repeat found: where the two texts are joined. */
  splice?: Splice;
}

/**
 * Left words [leftFrom, leftPosition) and right words [rightPosition, rightTo)
 * are kept whatever their estimated times say; left words from leftPosition on
 * and right words before rightPosition are the repeat and are dropped.
 */
export interface Splice {
  leftFrom: number;
  leftPosition: number;
  rightPosition: number;
  rightTo: number;
}

/** The stitched words, in order, each taken from exactly one segment. */
export interface ResolvedWords {
  words: PlacedWord[];
  alignments: BoundaryAlignment[];
}

/** Below this much shared audio, only identical words count as one word heard twice. */
const MIN_SHARED_AUDIO_SECONDS = 1;

/** Copies further apart than this are not averaged: one of them is probably a clipped edge word. */
const MAX_AVERAGED_GAP_SECONDS = 0.25;

/** Caps the text alignment, which is quadratic, to what an overlap can hold. */
const MAX_TEXT_ALIGN_WORDS = 300;

/** Results in recording order, which is how every function here wants them. */
export function sortResults(results: readonly SegmentResult[]): SegmentResult[] {
  return [...results].sort((a, b) => a.index - b.index);
}

/** Aligns every pair of neighbouring results (see BoundaryAlignment). */
export function alignBoundaries(results: readonly SegmentResult[]): BoundaryAlignment[] {
  const sorted = sortResults(results);
  return alignPlaced(sorted, sorted.map(placeWords));
}

/**
 * Merges the segments' words so that each spoken word appears once.
 * Away from the overlaps a word belongs to the segment whose own range holds
 * its start. In an overlap both hearings of a word are paired first and the
 * pair is owned by its mean start, decided once for both copies: jitter of a
 * few tens of milliseconds can put the two copies on opposite sides of the
 * cut, and judging each copy alone would then double or lose the word. Words
 * only one side heard in an overlap are kept only by the owner of their time,
 * which drops the half-heard word at an audio edge and the "Thank you." a
 * model invents over the trailing silence.
 */
export function resolveOverlaps(results: readonly SegmentResult[]): ResolvedWords {
  const sorted = sortResults(results);
  const placed = sorted.map(placeWords);
  const alignments = alignPlaced(sorted, placed);

  const decisionTime = placed.map((words) => words.map((w) => w.start));
  // Two independent hearings of one word: their mean start is a better estimate than either.
  const averagedStart = placed.map(() => new Map<number, number>());
  const dropped = placed.map((words) => new Array<boolean>(words.length).fill(false));
  const kept = placed.map((words) => new Array<boolean>(words.length).fill(false));

  alignments.forEach((alignment, k) => {
    for (const pair of alignment.method === "timed" ? alignment.pairs : []) {
      const mean = (pair.left.start + pair.right.start) / 2;
      decisionTime[k][pair.leftPosition] = mean;
      decisionTime[k + 1][pair.rightPosition] = mean;
      if (Math.abs(pair.left.start - pair.right.start) <= MAX_AVERAGED_GAP_SECONDS) {
        averagedStart[k].set(pair.leftPosition, mean);
        averagedStart[k + 1].set(pair.rightPosition, mean);
      }
    }
    const splice = alignment.splice;
    if (splice === undefined) return;
    placed[k].forEach((_, p) => {
      if (p >= splice.leftPosition) dropped[k][p] = true;
      else if (p >= splice.leftFrom) kept[k][p] = true;
    });
    placed[k + 1].forEach((_, p) => {
      if (p < splice.rightPosition) dropped[k + 1][p] = true;
      else if (p < splice.rightTo) kept[k + 1][p] = true;
    });
  });

  const bounds = ownBounds(sorted);
  const words = placed.flatMap((segmentWords, k) =>
    segmentWords.flatMap((w, p) => {
      if (dropped[k][p]) return [];
      const t = decisionTime[k][p];
      if (!kept[k][p] && !(t >= bounds[k].from && t < bounds[k].to)) return [];
      const start = averagedStart[k].get(p);
      return [start === undefined ? w : { ...w, start, end: Math.max(w.end, start) }];
    }),
  );
  return { words, alignments };
}

function alignPlaced(sorted: readonly SegmentResult[], placed: readonly PlacedWord[][]): BoundaryAlignment[] {
  const alignments: BoundaryAlignment[] = [];
  for (let k = 0; k + 1 < sorted.length; k++) {
    const leftResult = sorted[k];
    const rightResult = sorted[k + 1];
    const zoneStart = rightResult.segment.start;
    const zoneEnd = leftResult.segment.end;
    const timed = leftResult.words !== null && rightResult.words !== null;
    const base = { left: leftResult.index, right: rightResult.index };

    if (timed) {
      const tol = MATCH_TOLERANCE_SECONDS;
      const a = positionsWhere(placed[k], (w) => w.start >= zoneStart - tol);
      const b = positionsWhere(placed[k + 1], (w) => w.start < zoneEnd + tol);
      // Without shared audio, two different words meeting at the cut are just neighbours.
      const exactOnly = zoneEnd - zoneStart < MIN_SHARED_AUDIO_SECONDS;
      const pairs = alignTimedWords(a.map((p) => placed[k][p]), b.map((p) => placed[k + 1][p]), { exactOnly });
      alignments.push({ ...base, method: "timed", pairs: pairs.map(([i, j]) => pair(placed, k, a[i], b[j])) });
      continue;
    }
    if (zoneEnd <= zoneStart) {
      alignments.push({ ...base, method: "text", pairs: [] });
      continue;
    }
    // Estimated times can be off by seconds, so look well beyond the overlap; the
    // semi-global alignment ignores what does not repeat.
    const slack = Math.max(3, 0.1 * (leftResult.segment.end - leftResult.segment.start));
    const a = positionsWhere(placed[k], (w) => w.start >= zoneStart - slack).slice(-MAX_TEXT_ALIGN_WORDS);
    const b = positionsWhere(placed[k + 1], (w) => w.start < zoneEnd + slack).slice(0, MAX_TEXT_ALIGN_WORDS);
    const pairs = alignTextOverlap(a.map((p) => placed[k][p]), b.map((p) => placed[k + 1][p]));
    const matched = pairs.map(([i, j]) => pair(placed, k, a[i], b[j]));
    const middle = matched[Math.floor((matched.length - 1) / 2)];
    const splice = middle && {
      leftFrom: a[0],
      leftPosition: middle.leftPosition,
      rightPosition: middle.rightPosition,
      rightTo: b[b.length - 1] + 1,
    };
    alignments.push({ ...base, method: "text", pairs: matched, ...(splice ? { splice } : {}) });
  }
  return alignments;
}

function pair(placed: readonly PlacedWord[][], k: number, leftPosition: number, rightPosition: number): MatchedPair {
  return { left: placed[k][leftPosition], right: placed[k + 1][rightPosition], leftPosition, rightPosition };
}

function positionsWhere(words: readonly PlacedWord[], keep: (w: PlacedWord) => boolean): number[] {
  const positions: number[] = [];
  words.forEach((w, p) => keep(w) && positions.push(p));
  return positions;
}

/**
 * The time range each result owns. The first and last reach to infinity so
 * that edge words with slightly negative or late times are not lost; a missing
 * segment's range is split between its neighbours rather than owned by nobody.
 */
function ownBounds(sorted: readonly SegmentResult[]): Array<{ from: number; to: number }> {
  return sorted.map((result, k) => {
    const previous = sorted[k - 1];
    const next = sorted[k + 1];
    return {
      from: previous ? (previous.segment.ownEnd + result.segment.ownStart) / 2 : -Infinity,
      to: next ? (result.segment.ownEnd + next.segment.ownStart) / 2 : Infinity,
    };
  });
}
