/**
 * Accuracy measures for e2e tests and benchmarks: how far a transcript is from
 * the truth a synthetic recording was built from. Written independently of
 * shared/domain on purpose, so a bug there cannot hide itself here.
 */

export interface TruthWord {
  word: string;
  start: number;
  end: number;
  speaker: string;
}

export interface HypWord {
  word: string;
  start: number;
  end: number;
  speaker_id: string | null;
}

export interface WordPair {
  truth: TruthWord;
  hyp: HypWord;
}

/** Lowercase, punctuation stripped, split on whitespace, empties dropped: "Hello, world!" -> ["hello", "world"]. */
export function normalizeTokens(words: readonly string[]): string[] {
  return words.flatMap((w) =>
    w
      .normalize("NFKC")
      .toLowerCase()
      .replace(/[\p{P}\p{S}]/gu, " ")
      .split(/\s+/u)
      .filter((t) => t.length > 0),
  );
}

/**
 * Word error rate: (substitutions + deletions + insertions) / truth length, on
 * normalized tokens. An empty truth gives 0 for an empty hypothesis, else 1.
 */
export function wordErrorRate(truthWords: readonly string[], hypWords: readonly string[]): number {
  const truth = normalizeTokens(truthWords);
  const hyp = normalizeTokens(hypWords);
  if (truth.length === 0) return hyp.length === 0 ? 0 : 1;
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= truth.length; i++) {
    const current = new Array<number>(hyp.length + 1);
    current[0] = i;
    for (let j = 1; j <= hyp.length; j++) {
      const substitution = previous[j - 1] + (truth[i - 1] === hyp[j - 1] ? 0 : 1);
      current[j] = Math.min(substitution, previous[j] + 1, current[j - 1] + 1);
    }
    previous = current;
  }
  return previous[hyp.length] / truth.length;
}

export interface AlignWordsOptions {
  /** Words further apart in start time than this never pair. Default 3 s. */
  windowSeconds?: number;
}

/**
 * Pairs truth and hypothesis words that are the same word (normalized) said at
 * about the same time: the longest such order-preserving pairing. Runs as a
 * longest-increasing-subsequence over the candidate pairs (Hunt-Szymanski), so
 * hour-long recordings take milliseconds.
 */
export function alignWords(
  truth: readonly TruthWord[],
  hyp: readonly HypWord[],
  opts: AlignWordsOptions = {},
): WordPair[] {
  const window = opts.windowSeconds ?? 3;
  const t = [...truth].sort((a, b) => a.start - b.start).map((w) => ({ w, token: normalizeTokens([w.word]).join(" ") }));
  const h = [...hyp].sort((a, b) => a.start - b.start).map((w) => ({ w, token: normalizeTokens([w.word]).join(" ") }));

  interface Node { i: number; j: number; previous: Node | null }
  const tails: number[] = [];
  const tailNodes: Node[] = [];
  let lo = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i].token.length === 0) continue;
    while (lo < h.length && h[lo].w.start < t[i].w.start - window) lo++;
    const candidates: number[] = [];
    for (let j = lo; j < h.length && h[j].w.start <= t[i].w.start + window; j++) {
      if (h[j].token === t[i].token) candidates.push(j);
    }
    // Descending, so one truth word never extends a chain through two of its own candidates.
    for (const j of candidates.reverse()) {
      let a = 0;
      let b = tails.length;
      while (a < b) {
        const mid = (a + b) >> 1;
        if (tails[mid] < j) a = mid + 1;
        else b = mid;
      }
      tails[a] = j;
      tailNodes[a] = { i, j, previous: a > 0 ? tailNodes[a - 1] : null };
    }
  }
  const pairs: WordPair[] = [];
  for (let node: Node | null = tailNodes[tailNodes.length - 1] ?? null; node !== null; node = node.previous) {
    pairs.push({ truth: t[node.i].w, hyp: h[node.j].w });
  }
  return pairs.reverse();
}

/** Mean |truth.start - hyp.start| over the pairs, seconds; NaN when there are none. */
export function meanStartError(pairs: readonly WordPair[]): number {
  if (pairs.length === 0) return NaN;
  return pairs.reduce((sum, p) => sum + Math.abs(p.truth.start - p.hyp.start), 0) / pairs.length;
}

/**
 * Share of paired words whose hypothesis speaker is right, under the one-to-one
 * mapping of hypothesis labels to truth labels that makes the most right.
 * Hypothesis labels left without a partner, and null labels, count as wrong.
 * NaN when there are no pairs.
 */
export function speakerAccuracy(pairs: readonly WordPair[]): number {
  if (pairs.length === 0) return NaN;
  const truthLabels = [...new Set(pairs.map((p) => p.truth.speaker))];
  const hypLabels = [...new Set(pairs.flatMap((p) => (p.hyp.speaker_id === null ? [] : [p.hyp.speaker_id])))];
  const counts = hypLabels.map((h) =>
    truthLabels.map((t) => pairs.filter((p) => p.hyp.speaker_id === h && p.truth.speaker === t).length),
  );
  return bestMatchingTotal(counts, truthLabels.length) / pairs.length;
}

/**
 * Exact best one-to-one assignment by dynamic programming over subsets of the
 * columns: fine for the handful of speakers a recording has (up to ~16).
 */
function bestMatchingTotal(counts: number[][], columns: number): number {
  if (columns > 16) throw new Error(`speakerAccuracy supports up to 16 truth speakers, got ${columns}`);
  let best = new Float64Array(1 << columns).fill(-Infinity);
  best[0] = 0;
  for (const row of counts) {
    const next = Float64Array.from(best);
    for (let mask = 0; mask < best.length; mask++) {
      if (best[mask] === -Infinity) continue;
      for (let c = 0; c < columns; c++) {
        if (mask & (1 << c)) continue;
        const to = mask | (1 << c);
        next[to] = Math.max(next[to], best[mask] + row[c]);
      }
    }
    best = next;
  }
  return Math.max(...best);
}

/** Distinct non-null speaker labels, from transcript words (speaker_id) or truth words (speaker). */
export function speakerCount(words: ReadonlyArray<{ speaker_id?: string | null; speaker?: string }>): number {
  return new Set(words.flatMap((w) => {
    const label = w.speaker_id !== undefined ? w.speaker_id : w.speaker;
    return label === null || label === undefined ? [] : [label];
  })).size;
}
