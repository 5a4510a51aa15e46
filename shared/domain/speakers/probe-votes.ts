import { maxWeightAssignment } from "./max-weight-matching.js";
import type { Word } from "../types.js";
import { pieceLabels, type ProbePlan } from "./probe-plan.js";

/** What one probe answer says, read piece by piece so that one misheard piece cannot decide alone. */
export interface ProbeVotes {
  /** Ref voice -> the clip label its pieces carry (one-to-one: two refs never share a label). */
  refLabels: Map<string, string>;
  /** Labels that any ref piece carries: such a label may be a ref's own, whatever the assignment says. */
  refPieceLabels: Set<string>;
  /**
   * Refs heard as solid controls: two pieces or more heard (all of them when it has fewer), every heard piece
   * with its one label. Only such a ref rules itself out for a head with another label: a
   * ref heard on one piece may have had that piece put with another voice, leaving its own label looking new.
   */
  solidRefs: Set<string>;
  /**
   * Head -> votes: a ref voice's key, or `?<label>` for a label no ref claimed. A piece heard is one vote,
   * shared between refs in proportion to their pieces under its label: when the diarizer gave two refs one
   * label, a head with that label is evidence for neither alone.
   */
  headVotes: Map<string, Map<string, number>>;
  /** Pairs of refs (sorted, joined by "|") whose pieces the diarizer put together: how alike it finds them. */
  confusedRefs: Map<string, number>;
  /** Pieces the diarizer left unlabelled. */
  unheardPieces: number;
}

export const UNCLAIMED = "?";
/** What a head piece is worth for a ref whose own pieces did not all come back with its label. */
const WEAK_CLAIM_WEIGHT = 0.5;

/**
 * Reads a probe's answer. The refs are controls: the label of each settled
 * voice is decided one-to-one over all ref pieces (a piece the diarizer put
 * with another voice is outvoted by that voice's other pieces), and a ref
 * piece carrying another ref's label is counted as a confusion between the
 * two. Heads get one vote per piece; deciding from the votes is the caller's
 * (settle-speakers.ts), because votes add up over repeated asks.
 */
export function readProbeVotes(plan: ProbePlan, words: readonly Word[]): ProbeVotes {
  const labels = pieceLabels(plan, words);
  const refs = [...new Set(plan.pieces.filter((p) => p.role === "ref").map((p) => p.speaker))];
  const clipLabels = [...new Set(labels.filter((l): l is string => l !== null))].sort();
  const counts = refs.map(() => clipLabels.map(() => 0));
  plan.pieces.forEach((piece, i) => {
    const label = labels[i];
    if (piece.role !== "ref" || label === null) return;
    counts[refs.indexOf(piece.speaker)][clipLabels.indexOf(label)]++;
  });

  const refLabels = new Map<string, string>();
  const assigned = maxWeightAssignment(counts);
  assigned.forEach((col, row) => {
    if (col >= 0 && counts[row][col] > 0) refLabels.set(refs[row], clipLabels[col]);
  });
  const refOf = new Map([...refLabels].map(([ref, label]) => [label, ref]));

  // A ref is a solid control when all its heard pieces carry its label and at most one of two or more
  // went unheard; a label claimed on less is weaker evidence for the heads that carry it (it may be an
  // unheard ref's).
  const piecesOf = (ref: string) => plan.pieces.filter((p) => p.speaker === ref).length;
  const solid = (ref: string): number => {
    const row = counts[refs.indexOf(ref)];
    const own = clipLabels.indexOf(refLabels.get(ref) ?? "");
    return own >= 0 && row[own] >= Math.min(2, piecesOf(ref)) && row.every((n, col) => n === 0 || col === own) ? 1 : 0;
  };
  const confusedRefs = new Map<string, number>();
  const headVotes = new Map<string, Map<string, number>>();
  let unheardPieces = 0;
  plan.pieces.forEach((piece, i) => {
    const label = labels[i];
    if (label === null) {
      unheardPieces++;
      if (piece.role === "head" && !headVotes.has(piece.speaker)) headVotes.set(piece.speaker, new Map());
      return;
    }
    const owner = refOf.get(label);
    if (piece.role === "ref") {
      if (owner !== undefined && owner !== piece.speaker) {
        const pair = [owner, piece.speaker].sort().join("|");
        confusedRefs.set(pair, (confusedRefs.get(pair) ?? 0) + 1);
      }
      return;
    }
    const tally = headVotes.get(piece.speaker) ?? new Map<string, number>();
    const col = clipLabels.indexOf(label);
    const under = refs.map((ref, row) => [ref, counts[row][col]] as const).filter(([, n]) => n > 0);
    const total = under.reduce((a, [, n]) => a + n, 0);
    if (owner === undefined || total === 0) tally.set(`${UNCLAIMED}${label}`, (tally.get(`${UNCLAIMED}${label}`) ?? 0) + 1);
    else for (const [ref, n] of under) tally.set(ref, (tally.get(ref) ?? 0) + (WEAK_CLAIM_WEIGHT + (1 - WEAK_CLAIM_WEIGHT) * solid(ref)) * (n / total));
    headVotes.set(piece.speaker, tally);
  });
  const refPieceLabels = new Set(clipLabels.filter((_, col) => counts.some((row) => row[col] > 0)));
  const solidRefs = new Set(refs.filter((ref) => solid(ref) === 1));
  return { refLabels, refPieceLabels, solidRefs, headVotes, confusedRefs, unheardPieces };
}
