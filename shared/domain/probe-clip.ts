import type { SpeakerSample } from "./speaker-samples.js";
import type { Word } from "./types.js";

/** One stretch of segment audio placed at `at` seconds in the probe clip. */
export interface ProbePiece {
  sample: SpeakerSample;
  at: number;
  /** The known global speaker it comes from; null for the speaker being identified. */
  owner: string | null;
}

export interface ProbePlan {
  pieces: ProbePiece[];
  duration: number;
}

export interface ProbeOptions {
  /** Silence between pieces, so a diarizer sees clean turns. */
  gapSeconds?: number;
  piecesPerSpeaker?: number;
}

/**
 * Lays out a probe clip: a few seconds of each known speaker, then the
 * unknown one. Returns null when there is nobody to compare with or nothing
 * of the unknown speaker to send.
 */
export function planProbe(
  known: Readonly<Record<string, readonly SpeakerSample[]>>,
  unknown: readonly SpeakerSample[],
  opts: ProbeOptions = {},
): ProbePlan | null {
  const gap = opts.gapSeconds ?? 0.6;
  const perSpeaker = opts.piecesPerSpeaker ?? 2;
  const owners = Object.keys(known).filter((label) => known[label].length > 0);
  if (owners.length === 0 || unknown.length === 0) return null;
  const pieces: ProbePiece[] = [];
  let at = gap;
  const place = (sample: SpeakerSample, owner: string | null) => {
    pieces.push({ sample, at, owner });
    at += sample.end - sample.start + gap;
  };
  // Interleave speakers so no two pieces of one voice sit side by side.
  for (let round = 0; round < perSpeaker; round++) {
    for (const owner of owners) {
      const sample = known[owner][round];
      if (sample) place(sample, owner);
    }
  }
  for (const sample of unknown.slice(0, perSpeaker)) place(sample, null);
  return { pieces, duration: at };
}

/**
 * Reads the diarizer's answer: the label most of the unknown piece's words
 * carry, compared with the label each known speaker's pieces carry. Returns
 * the known speaker it matches, or null for a voice not heard before.
 */
export function readProbeAnswer(plan: ProbePlan, words: readonly Word[]): string | null {
  const labelsIn = (piece: ProbePiece) => {
    const from = piece.at - 0.15;
    const to = piece.at + (piece.sample.end - piece.sample.start) + 0.15;
    return words.filter((w) => w.start >= from && w.start < to && w.speaker).map((w) => w.speaker as string);
  };
  const unknownVotes = tally(plan.pieces.filter((p) => p.owner === null).flatMap(labelsIn));
  const unknownLabel = top(unknownVotes);
  if (!unknownLabel) return null;

  // Each known speaker's label in this request, by majority over its pieces.
  const votesByOwner = new Map<string, Map<string, number>>();
  for (const piece of plan.pieces) {
    if (piece.owner === null) continue;
    const votes = votesByOwner.get(piece.owner) ?? new Map<string, number>();
    for (const label of labelsIn(piece)) votes.set(label, (votes.get(label) ?? 0) + 1);
    votesByOwner.set(piece.owner, votes);
  }
  let best: { owner: string; share: number } | null = null;
  for (const [owner, votes] of votesByOwner) {
    if (top(votes) !== unknownLabel) continue;
    const total = [...votes.values()].reduce((a, b) => a + b, 0);
    const share = (votes.get(unknownLabel) ?? 0) / Math.max(1, total);
    if (!best || share > best.share) best = { owner, share };
  }
  return best?.owner ?? null;
}

function tally(labels: readonly string[]): Map<string, number> {
  const votes = new Map<string, number>();
  for (const label of labels) votes.set(label, (votes.get(label) ?? 0) + 1);
  return votes;
}

function top(votes: ReadonlyMap<string, number>): string | undefined {
  let best: string | undefined;
  let count = 0;
  for (const [label, n] of votes) {
    if (n > count || (n === count && best !== undefined && label < best)) {
      best = label;
      count = n;
    }
  }
  return best;
}
