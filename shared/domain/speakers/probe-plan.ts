import type { Word } from "../types.js";

/**
 * Where probe audio comes from: a stretch of one segment's audio, of a
 * settled voice's stored clip (so later probes need not decode old segments),
 * or of an enrolled voice's clip (name-voices.ts), copied into the job's work
 * area when it was chunked.
 */
export type AudioSource = { segment: number } | { voice: string } | { enrolled: string };

export interface AudioSpan {
  from: AudioSource;
  /** Seconds within the source. */
  start: number;
  end: number;
}

/** What a speaker book keeps as a voice's reference audio: the job's own segments or its stored clips, never an enrolled clip. */
export type BookSpan = AudioSpan & { from: { segment: number } | { voice: string } };

/** A voice in a probe clip: a settled one ("ref") or one to be told ("head"). */
export interface ProbeSpeaker {
  key: string;
  role: "ref" | "head";
  spans: readonly AudioSpan[];
}

/** One stretch of source audio placed at `at` seconds in the probe clip. */
export interface ProbePiece {
  speaker: string;
  role: "ref" | "head";
  span: AudioSpan;
  at: number;
}

export interface ProbePlan {
  pieces: ProbePiece[];
  duration: number;
}

/** Silence between pieces, so a diarizer hears clean turns. */
export const PROBE_GAP_SECONDS = 0.4;
/** Words whose start is this close outside a piece still belong to it: provider starts are loose. */
const PIECE_SLACK_SECONDS = 0.15;

/**
 * Lays out one probe clip: every speaker's spans, interleaved round by round
 * so no two pieces of one voice sit side by side, with silence between. The
 * diarizer then labels the whole clip in one request, and the labels say who
 * is who.
 *
 * `turn` starts the rounds at another speaker: a clip asked again holds the
 * same pieces when a voice has little reference audio, and a diarizer given
 * the same bytes gives the same answer, so asking again would learn nothing.
 */
export function planProbe(
  speakers: readonly ProbeSpeaker[],
  { gapSeconds = PROBE_GAP_SECONDS, turn = 0 }: { gapSeconds?: number; turn?: number } = {},
): ProbePlan | null {
  if (!speakers.some((s) => s.role === "head" && s.spans.length > 0)) return null;
  const pieces: ProbePiece[] = [];
  let at = gapSeconds;
  const rounds = Math.max(...speakers.map((s) => s.spans.length));
  const shift = speakers.length > 0 ? turn % speakers.length : 0;
  const ordered = [...speakers.slice(shift), ...speakers.slice(0, shift)];
  for (let round = 0; round < rounds; round++) {
    for (const { key, role, spans } of ordered) {
      const span = spans[round];
      if (!span) continue;
      pieces.push({ speaker: key, role, span, at });
      at += span.end - span.start + gapSeconds;
    }
  }
  return { pieces, duration: at };
}

/** The label most of a piece's words carry, or null for a piece the diarizer left unlabelled. */
export function pieceLabels(plan: ProbePlan, words: readonly Word[]): Array<string | null> {
  return plan.pieces.map((piece) => {
    const from = piece.at - PIECE_SLACK_SECONDS;
    const to = piece.at + (piece.span.end - piece.span.start) + PIECE_SLACK_SECONDS;
    const tally = new Map<string, number>();
    for (const w of words) {
      if (w.speaker && w.start >= from && w.start < to) tally.set(w.speaker, (tally.get(w.speaker) ?? 0) + 1);
    }
    return top(tally)?.key ?? null;
  });
}

/** The entry with the highest count; ties go to the smaller key, so answers read the same every time. */
export function top<K extends string>(tally: ReadonlyMap<K, number>): { key: K; count: number } | undefined {
  let best: { key: K; count: number } | undefined;
  for (const [key, count] of tally) {
    if (count <= 0) continue;
    if (!best || count > best.count || (count === best.count && key < best.key)) best = { key, count };
  }
  return best;
}
