import { wordSimilarity } from "./normalize-word.js";

/** What alignment needs of a word: its comparable text and (for timed alignment) its start. */
export interface AlignableWord {
  norm: string;
  start: number;
}

/** Index pairs [i in a, j in b], increasing in both. */
export type IndexPairs = Array<[number, number]>;

/** Two hearings further apart than this are never the same spoken word. */
export const MATCH_TOLERANCE_SECONDS = 0.6;

/**
 * Two copies this close in time are the same spoken word even when the texts
 * differ ("OK" / "okay", "20" / "twenty"); only then is a substitution a match.
 */
const SAME_MOMENT_SECONDS = 0.25;

/**
 * Aligns two hearings of the same audio by text and time: a monotonic
 * alignment maximising the summed match score. Exact (normalized) matches
 * score highest, similar spellings less, different words only when they start
 * at practically the same moment.
 */
export function alignTimedWords(
  a: readonly AlignableWord[],
  b: readonly AlignableWord[],
  opts: { toleranceSeconds?: number; exactOnly?: boolean } = {},
): IndexPairs {
  const toleranceSeconds = opts.toleranceSeconds ?? MATCH_TOLERANCE_SECONDS;
  const score = (x: AlignableWord, y: AlignableWord): number => {
    const distance = Math.abs(x.start - y.start);
    if (distance > toleranceSeconds) return 0;
    // A little credit for closeness, so that of two equal words the nearer wins.
    const closeness = 0.01 * (1 - distance / toleranceSeconds);
    if (x.norm.length > 0 && x.norm === y.norm) return 1 + closeness;
    if (opts.exactOnly) return 0;
    const similarity = wordSimilarity(x.norm, y.norm);
    if (x.norm.length > 0 && similarity >= 0.5) return 0.5 * similarity + closeness;
    return distance <= SAME_MOMENT_SECONDS ? 0.2 + closeness : 0;
  };
  return bestMonotonicMatching(a, b, score);
}

/**
 * Longest-common-subsequence style dynamic programme: pairs with score 0 never
 * match, skipping costs nothing.
 */
function bestMonotonicMatching<A, B>(a: readonly A[], b: readonly B[], score: (x: A, y: B) => number): IndexPairs {
  const n = a.length;
  const m = b.length;
  const table = new Float64Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const s = score(a[i - 1], b[j - 1]);
      const diagonal = s > 0 ? table[at(i - 1, j - 1)] + s : -Infinity;
      table[at(i, j)] = Math.max(diagonal, table[at(i - 1, j)], table[at(i, j - 1)]);
    }
  }
  const pairs: IndexPairs = [];
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    const here = table[at(i, j)];
    if (here === table[at(i - 1, j)]) i--;
    else if (here === table[at(i, j - 1)]) j--;
    else {
      pairs.push([i - 1, j - 1]);
      i--;
      j--;
    }
  }
  return pairs.reverse();
}

/**
 * Finds where the tail of one text repeats at the head of the next, for
 * text-only answers whose times cannot be trusted. A semi-global alignment:
 * any prefix of `tail` and any suffix of `head` are free, the rest must align,
 * mismatches and gaps cost. Returns the matched pairs, or [] when the best
 * overlap has fewer than `minMatches` words in common.
 */
export function alignTextOverlap(
  tail: readonly AlignableWord[],
  head: readonly AlignableWord[],
  minMatches = 2,
): IndexPairs {
  const MATCH = 2;
  const MISMATCH = -1;
  const GAP = -1;
  const n = tail.length;
  const m = head.length;
  const width = m + 1;
  const table = new Float64Array((n + 1) * width);
  for (let j = 1; j <= m; j++) table[j] = j * GAP;
  for (let i = 1; i <= n; i++) {
    table[i * width] = 0;
    for (let j = 1; j <= m; j++) {
      const same = tail[i - 1].norm.length > 0 && tail[i - 1].norm === head[j - 1].norm;
      table[i * width + j] = Math.max(
        table[(i - 1) * width + j - 1] + (same ? MATCH : MISMATCH),
        table[(i - 1) * width + j] + GAP,
        table[i * width + j - 1] + GAP,
      );
    }
  }
  let bestJ = 0;
  for (let j = 1; j <= m; j++) if (table[n * width + j] > table[n * width + bestJ]) bestJ = j;

  const pairs: IndexPairs = [];
  let i = n;
  let j = bestJ;
  while (i > 0 && j > 0) {
    const here = table[i * width + j];
    const same = tail[i - 1].norm.length > 0 && tail[i - 1].norm === head[j - 1].norm;
    if (here === table[(i - 1) * width + j - 1] + (same ? MATCH : MISMATCH)) {
      if (same) pairs.push([i - 1, j - 1]);
      i--;
      j--;
    } else if (here === table[(i - 1) * width + j] + GAP) i--;
    else j--;
  }
  return pairs.length >= minMatches ? pairs.reverse() : [];
}
