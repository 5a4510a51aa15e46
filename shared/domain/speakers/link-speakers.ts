import type { SegmentResult, SpeakerMap } from "../types.js";
import { placeWords } from "../words/segment-words.js";
import { alignBoundaries, sortResults, type BoundaryAlignment } from "../stitching/resolve-overlaps.js";
import { maxWeightAssignment } from "./max-weight-matching.js";
import { compareSpeakerLabels, globalSpeakerLabel } from "./speaker-labels.js";

export { speakerSamples, type SpeakerSample, type SpeakerSamples, type SpeakerSampleOptions } from "./speaker-samples.js";

/** A segment-local speaker: label `label` in the result with index `index`. */
export interface LocalSpeaker {
  index: number;
  label: string;
}

export interface LinkResult {
  /** Every local label of every result, mapped; unresolved ones to provisional new speakers. */
  map: SpeakerMap;
  /**
   * Speakers who first appear after the first segment and whom no overlap ties
   * to an earlier label: either someone new or someone who spoke before but not
   * across a cut. One entry per chain of linked labels, at its first segment.
   */
  unresolved: LocalSpeaker[];
}

export interface LinkOptions {
  /** Words both sides must attribute to the pair of labels. */
  minSupport?: number;
  /** Share of either label's overlap words that must go to the pair. */
  minAgreement?: number;
}

/**
 * Makes speaker labels consistent across segments. The provider numbers
 * speakers per request, so SPEAKER_00 in one segment may be SPEAKER_01 in the
 * next; the words both segments heard in their overlap say which is which.
 * For each boundary the labels are paired one-to-one to maximise the number of
 * overlap words on which they agree, and a pairing counts only with enough
 * support; links chain across segments. Global labels are numbered in order of
 * first appearance in the recording.
 */
export function linkSpeakers(
  results: readonly SegmentResult[],
  matchedPairs?: readonly BoundaryAlignment[],
  opts: LinkOptions = {},
): LinkResult {
  const sorted = sortResults(results);
  const alignments = matchedPairs ?? alignBoundaries(sorted);
  const minSupport = opts.minSupport ?? 2;
  const minAgreement = opts.minAgreement ?? 0.6;
  const chains = new Chains();

  for (const alignment of alignments) {
    for (const link of boundaryLinks(alignment, { minSupport, minAgreement })) {
      chains.union(key(alignment.left, link.left), key(alignment.right, link.right));
    }
  }

  // Number chains by the first word spoken in each segment's own range.
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (index: number, label: string) => {
    const root = chains.find(key(index, label));
    if (!seen.has(root)) {
      seen.add(root);
      order.push(root);
    }
  };
  for (const result of sorted) {
    const { ownStart, ownEnd } = result.segment;
    const owned = placeWords(result).filter((w) => w.start >= ownStart && w.start < ownEnd);
    for (const w of owned) if (w.localSpeaker !== null) visit(result.index, w.localSpeaker);
  }
  for (const result of sorted) for (const label of localLabels(result)) visit(result.index, label);

  const globalOf = new Map(order.map((root, n) => [root, globalSpeakerLabel(n)]));
  const map: SpeakerMap = {};
  const unresolved: LocalSpeaker[] = [];
  const reported = new Set<string>();
  for (const result of sorted) {
    map[result.index] = {};
    // With nobody heard before, a new chain cannot be anyone already known.
    const anyoneEarlier = reported.size > 0;
    for (const label of localLabels(result)) {
      const root = chains.find(key(result.index, label));
      map[result.index][label] = globalOf.get(root) as string;
      if (anyoneEarlier && !reported.has(root)) unresolved.push({ index: result.index, label });
      reported.add(root);
    }
  }
  return { map, unresolved };
}

/**
 * The label pairs one cut's overlap words tie together: the labels of the two
 * neighbours are paired one-to-one to maximise the words on which they agree,
 * and a pair counts only with enough support and agreement.
 */
export function boundaryLinks(alignment: BoundaryAlignment, opts: LinkOptions = {}): Array<{ left: string; right: string }> {
  const minSupport = opts.minSupport ?? 2;
  const minAgreement = opts.minAgreement ?? 0.6;
  const counts = new CoOccurrence();
  for (const { left, right } of alignment.pairs) {
    if (left.localSpeaker !== null && right.localSpeaker !== null) counts.add(left.localSpeaker, right.localSpeaker);
  }
  const matrix = counts.matrix();
  const links: Array<{ left: string; right: string }> = [];
  maxWeightAssignment(matrix).forEach((col, row) => {
    if (col < 0) return;
    const together = matrix[row][col];
    const agreement = together / Math.max(counts.rowTotal(row), counts.colTotal(col));
    if (together >= minSupport && agreement >= minAgreement) links.push({ left: counts.rows[row], right: counts.cols[col] });
  });
  return links;
}

export function localLabels(result: SegmentResult): string[] {
  const fromWords = (result.words ?? []).map((w) => w.speaker);
  const fromSpans = result.spans.map((s) => s.speaker);
  const all = [...result.speakers, ...fromWords, ...fromSpans].filter((l): l is string => typeof l === "string");
  return [...new Set(all)].sort(compareSpeakerLabels);
}

function key(index: number, label: string): string {
  return `${index}\u0000${label}`;
}

/** Union-find over local speakers; a chain is one person across segments. */
export class Chains {
  private readonly parent = new Map<string, string>();

  find(node: string): string {
    let root = node;
    while (this.parent.has(root) && this.parent.get(root) !== root) root = this.parent.get(root) as string;
    this.parent.set(node, root);
    return root;
  }

  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

/** How often label pairs (left, right) were given to the same spoken word. */
class CoOccurrence {
  readonly rows: string[] = [];
  readonly cols: string[] = [];
  private readonly counts = new Map<string, number>();

  add(left: string, right: string): void {
    if (!this.rows.includes(left)) this.rows.push(left);
    if (!this.cols.includes(right)) this.cols.push(right);
    const k = `${left}\u0000${right}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  matrix(): number[][] {
    return this.rows.map((r) => this.cols.map((c) => this.counts.get(`${r}\u0000${c}`) ?? 0));
  }

  rowTotal(row: number): number {
    return this.matrix()[row].reduce((a, b) => a + b, 0);
  }

  colTotal(col: number): number {
    return this.matrix().reduce((sum, row) => sum + row[col], 0);
  }
}
