import type { SpeakerSample } from "./speaker-samples.js";
import type { Word } from "./types.js";

/** Who a probe piece comes from: a settled global speaker, or an unlinked local one (by key). */
export type ProbeOwner = { kind: "known"; label: string } | { kind: "unknown"; key: string };

/** One stretch of segment audio placed at `at` seconds in the probe clip. */
export interface ProbePiece {
  sample: SpeakerSample;
  at: number;
  owner: ProbeOwner;
}

export interface ProbePlan {
  pieces: ProbePiece[];
  duration: number;
}

export interface ProbeUnknown {
  key: string;
  samples: readonly SpeakerSample[];
}

export interface ProbeOptions {
  /** Silence between pieces, so a diarizer sees clean turns. */
  gapSeconds?: number;
  piecesPerSpeaker?: number;
}

/** What the diarizer said of one unknown speaker. */
export type ProbeVerdict =
  | { kind: "known"; label: string }
  /** Not any known speaker; unknowns with the same group are one new voice. */
  | { kind: "new"; group: string }
  | { kind: "unheard" };

/**
 * Lays out one probe clip for a batch of unlinked speakers: a few seconds of
 * each known speaker, then of each unknown one, with silence between. One
 * request settles the whole batch, and unknowns that are the same new voice
 * come out with the same label.
 */
export function planProbe(
  known: Readonly<Record<string, readonly SpeakerSample[]>>,
  unknowns: readonly ProbeUnknown[],
  opts: ProbeOptions = {},
): ProbePlan | null {
  const gap = opts.gapSeconds ?? 0.6;
  const perSpeaker = opts.piecesPerSpeaker ?? 2;
  const speakers: Array<{ owner: ProbeOwner; samples: readonly SpeakerSample[] }> = [
    ...Object.keys(known)
      .filter((label) => known[label].length > 0)
      .map((label) => ({ owner: { kind: "known", label } as ProbeOwner, samples: known[label] })),
    ...unknowns.filter((u) => u.samples.length > 0).map((u) => ({ owner: { kind: "unknown", key: u.key } as ProbeOwner, samples: u.samples })),
  ];
  if (!speakers.some((s) => s.owner.kind === "unknown")) return null;
  const pieces: ProbePiece[] = [];
  let at = gap;
  // Interleave speakers so no two pieces of one voice sit side by side.
  for (let round = 0; round < perSpeaker; round++) {
    for (const { owner, samples } of speakers) {
      const sample = samples[round];
      if (!sample) continue;
      pieces.push({ sample, at, owner });
      at += sample.end - sample.start + gap;
    }
  }
  return { pieces, duration: at };
}

/**
 * Reads the diarizer's answer: each speaker's label in this request is the
 * one most words of its pieces carry. An unknown whose label is a known
 * speaker's is that speaker; otherwise it is new, grouped by label.
 */
export function readProbeAnswer(plan: ProbePlan, words: readonly Word[]): Map<string, ProbeVerdict> {
  const votes = new Map<string, Map<string, number>>();
  const ownerKey = (o: ProbeOwner) => (o.kind === "known" ? `k:${o.label}` : `u:${o.key}`);
  for (const piece of plan.pieces) {
    const from = piece.at - 0.15;
    const to = piece.at + (piece.sample.end - piece.sample.start) + 0.15;
    const tally = votes.get(ownerKey(piece.owner)) ?? new Map<string, number>();
    for (const w of words) {
      if (w.speaker && w.start >= from && w.start < to) tally.set(w.speaker, (tally.get(w.speaker) ?? 0) + 1);
    }
    votes.set(ownerKey(piece.owner), tally);
  }
  // Known speakers claim labels; a label two known speakers share stays with the one it describes best.
  const claimed = new Map<string, { label: string; share: number }>();
  for (const piece of plan.pieces) {
    if (piece.owner.kind !== "known") continue;
    const tally = votes.get(ownerKey(piece.owner))!;
    const label = top(tally);
    if (!label) continue;
    const share = (tally.get(label) ?? 0) / sum(tally);
    const current = claimed.get(label);
    if (!current || share > current.share) claimed.set(label, { label: piece.owner.label, share });
  }
  const verdicts = new Map<string, ProbeVerdict>();
  for (const piece of plan.pieces) {
    if (piece.owner.kind !== "unknown" || verdicts.has(piece.owner.key)) continue;
    const label = top(votes.get(ownerKey(piece.owner))!);
    const known = label ? claimed.get(label) : undefined;
    verdicts.set(
      piece.owner.key,
      !label ? { kind: "unheard" } : known ? { kind: "known", label: known.label } : { kind: "new", group: label },
    );
  }
  return verdicts;
}

function sum(votes: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const n of votes.values()) total += n;
  return Math.max(1, total);
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
