import { planProbe, pieceLabels, type AudioSpan, type ProbePiece, type ProbePlan } from "./probe-plan.js";
import { countProbe, rotate, type AskDiarizer } from "./settle-speakers.js";
import type { SpeakerBook } from "./speaker-book.js";

/** An enrolled voice a job names: its reference pieces, cut from its enrollment clip. */
export interface EnrolledRef {
  name: string;
  spans: readonly AudioSpan[];
}

export interface NameOptions {
  /** The job's last settling step: a voice still undecided is nobody's (null), with a note. */
  final: boolean;
  headsPerProbe?: number;
  headPieces?: number;
  refPieces?: number;
  /** Asks per step for voices still undecided (later ones with other pieces). */
  roundsPerStep?: number;
  /** Asks over the whole job before an undecided voice is nobody's. */
  maxAsks?: number;
}

export interface NameReport {
  named: number;
  nobody: number;
  undecided: number;
  probes: number;
  probeSeconds: number;
}

export const NAMING_DEFAULTS = { headsPerProbe: 4, headPieces: 3, refPieces: 3, roundsPerStep: 2, maxAsks: 6 };

/** Rounds the job's last step may ask (each voice within its `maxAsks`). */
const FINAL_ROUNDS = 4;
/** A vote for nobody enrolled: the head's label is no ref's, in a probe where every ref came back clean. */
export const NOBODY = "#nobody";
/** A piece whose label says nothing certain (a ref's stray piece carried it, or two refs share it). */
const UNCLEAR = "#unclear";

/**
 * Names the book's voices after the job's enrolled voices, with the technique the settler uses to link voices
 * across segments: probe clips to the provider's diarizer, the enrolled voices' pieces as the known speakers
 * (refs) and the unnamed voices' pieces as the ones to tell (heads). Labels are per request, so a head piece
 * and an enrolled voice's pieces with one label in one clip are one voice to the diarizer.
 *
 * Naming is conservative, since a wrong name is worse than none: a voice is named when at least three of its
 * pieces, three of them different pieces (summed over asks), carry the label that exactly one enrolled voice owns in that clip (two or more of
 * its pieces, two to one over its others), and they outweigh every other answer three to one ("nobody" answers
 * counting double). It is nobody's
 * (null) when two or more pieces, outweighing the rest three to one, carry a label that no enrolled piece
 * carries, in clips where every enrolled voice owns a label of its own. A piece whose label proves neither
 * abstains. Anything else is undecided: the votes are kept in the book and the voice is asked again at the next
 * step, with other pieces; the job's last step asks up to `maxAsks` in all, then an undecided voice is
 * nobody's, with a note. A name, once given, is never revisited.
 *
 * Returns a new book: `names` and `naming` updated, the probes added to `probes` (billing), notes appended.
 */
export async function nameVoices(
  book: SpeakerBook,
  enrolled: readonly EnrolledRef[],
  ask: AskDiarizer,
  options: NameOptions,
): Promise<{ book: SpeakerBook; report: NameReport }> {
  const opts = { ...NAMING_DEFAULTS, ...options };
  const next: SpeakerBook = structuredClone(book);
  const report: NameReport = { named: 0, nobody: 0, undecided: 0, probes: 0, probeSeconds: 0 };
  const names = (next.names ??= {});
  const naming = (next.naming ??= {});
  const refs = enrolled.filter((r) => r.spans.length > 0);
  let pending = next.voices.filter((v) => !(v.id in names) && v.spans.length > 0);

  if (refs.length === 0) {
    for (const voice of pending) names[voice.id] = null;
    report.nobody = pending.length;
    return { book: next, report };
  }

  // The job's last step is the last chance: a voice still unclear is asked until its asks run out.
  const rounds = opts.final ? Math.max(opts.roundsPerStep, FINAL_ROUNDS) : opts.roundsPerStep;
  for (let round = 0; round < rounds && pending.length > 0; round++) {
    pending = pending.filter((v) => (naming[v.id]?.asks ?? 0) < opts.maxAsks);
    if (pending.length === 0) break;
    const groups: Array<typeof pending> = [];
    for (let i = 0; i < pending.length; i += opts.headsPerProbe) groups.push(pending.slice(i, i + opts.headsPerProbe));
    const asked = await Promise.all(
      groups.map(async (group) => {
        const turns = group.map((v) => naming[v.id]?.asks ?? 0);
        const turn = Math.min(...turns);
        const plan = planProbe([
          ...refs.map((r) => ({ key: `ref:${r.name}`, role: "ref" as const, spans: rotate(r.spans, turn, opts.refPieces) })),
          ...group.map((v) => ({ key: `head:${v.id}`, role: "head" as const, spans: rotate(v.spans, naming[v.id]?.asks ?? 0, opts.headPieces) })),
        ], { turn });
        if (!plan) return { group, plan, answer: { failed: "nothing to ask" } as const };
        const answer = await ask(plan);
        countProbe(report, plan, answer);
        return { group, plan, answer };
      }),
    );
    for (const { group, plan, answer } of asked) {
      for (const voice of group) {
        const entry = (naming[voice.id] ??= { asks: 0, votes: {} });
        entry.asks++;
      }
      if (!plan || "failed" in answer) {
        if ("failed" in answer) next.notes.push(`a naming probe failed: ${answer.failed}`);
        continue;
      }
      const read = readNamingProbe(plan, answer.words);
      for (const voice of group) {
        const entry = naming[voice.id];
        for (const [vote, n] of read.headVotes.get(`head:${voice.id}`) ?? []) entry.votes[vote] = (entry.votes[vote] ?? 0) + n;
      }
      for (const { head, piece, vote } of read.pieceVotes) {
        const entry = naming[head.slice("head:".length)];
        if (!entry) continue;
        const pieces = (entry.pieces ??= {});
        const id = pieceId(piece.span);
        if (!(pieces[vote] ??= []).includes(id)) pieces[vote].push(id);
      }
    }
    for (const voice of pending) {
      const entry = naming[voice.id];
      const verdict = decideName(entry?.votes ?? {}, distinctCounts(entry?.pieces));
      if (verdict === undefined) continue;
      names[voice.id] = verdict;
      if (verdict === null) report.nobody++;
      else report.named++;
    }
    pending = pending.filter((v) => !(v.id in names));
  }

  for (const voice of next.voices.filter((v) => !(v.id in names))) {
    if (opts.final || (naming[voice.id]?.asks ?? 0) >= opts.maxAsks) {
      names[voice.id] = null;
      report.nobody++;
      next.notes.push(`voice ${voice.id}: the diarizer did not say clearly whether it is an enrolled voice; it is left unnamed`);
    } else {
      report.undecided++;
    }
  }
  next.probes = { requests: next.probes.requests + report.probes, seconds: next.probes.seconds + report.probeSeconds };
  const naming0 = next.namingProbes ?? { requests: 0, seconds: 0 };
  next.namingProbes = { requests: naming0.requests + report.probes, seconds: naming0.seconds + report.probeSeconds };
  return { book: next, report };
}

/**
 * What one naming probe says: per head, votes for enrolled names (`ref:` stripped), NOBODY or UNCLEAR; a piece
 * whose label proves nothing (a ref's stray piece carried it, or the refs were not all heard cleanly) abstains.
 */
export function readNamingProbe(plan: ProbePlan, words: Parameters<typeof pieceLabels>[1]): {
  headVotes: Map<string, Map<string, number>>;
  /** The same votes piece by piece. */
  pieceVotes: Array<{ head: string; piece: ProbePiece; vote: string }>;
  refsClean: boolean;
} {
  const labels = pieceLabels(plan, words);
  const refPieces = new Map<string, Array<string | null>>();
  plan.pieces.forEach((piece, i) => {
    if (piece.role === "ref") refPieces.set(piece.speaker, [...(refPieces.get(piece.speaker) ?? []), labels[i]]);
  });
  // A ref owns a label when at least two of its pieces carry it (one, for a ref of one piece), two to one over
  // its other heard pieces. "Nobody" needs every ref to own a label of its own, and the head's label on no ref
  // piece at all: then the head is none of them (a ref's stray piece elsewhere does not change whose the
  // others are; a stray piece under the head's label makes that label unsure, and the piece abstains).
  const owner = new Map<string, string>();
  const anyRefLabel = new Set<string>();
  for (const [ref, pieces] of refPieces) {
    const heard = pieces.filter((l): l is string => l !== null);
    const tally = new Map<string, number>();
    for (const label of heard) {
      tally.set(label, (tally.get(label) ?? 0) + 1);
      anyRefLabel.add(label);
    }
    const [best, count] = [...tally].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0] ?? [undefined, 0];
    const rest = heard.length - count;
    if (best !== undefined && count >= Math.min(2, pieces.length) && count >= 2 * rest) owner.set(ref, best);
  }
  const owners = new Map<string, string[]>();
  for (const [ref, label] of owner) owners.set(label, [...(owners.get(label) ?? []), ref]);
  const refsClean = owner.size === refPieces.size && [...owners.values()].every((refs) => refs.length === 1);

  const headVotes = new Map<string, Map<string, number>>();
  const pieceVotes: Array<{ head: string; piece: ProbePiece; vote: string }> = [];
  plan.pieces.forEach((piece, i) => {
    if (piece.role !== "head") return;
    const tally = headVotes.get(piece.speaker) ?? new Map<string, number>();
    headVotes.set(piece.speaker, tally);
    const label = labels[i];
    if (label === null) return;
    const of = owners.get(label) ?? [];
    let vote: string | undefined;
    // Two refs under one label: the diarizer cannot tell them apart here, so this piece is evidence against any one name.
    if (of.length > 1) vote = UNCLEAR;
    else if (of.length === 1) vote = of[0].slice("ref:".length);
    else if (!anyRefLabel.has(label) && refsClean) vote = NOBODY;
    if (vote === undefined) return;
    tally.set(vote, (tally.get(vote) ?? 0) + 1);
    pieceVotes.push({ head: piece.speaker, piece, vote });
  });
  return { headVotes, pieceVotes, refsClean };
}

/**
 * A name when at least three votes agree (every piece of one ask, or pieces of several), or nobody (null) when
 * at least two do, and they outweigh every other answer three to one (3:1, 6:2); undefined while the votes are
 * not that clear, so a split such as 2:1 is asked again with other pieces rather than settled by one piece.
 * A name asks for more than "nobody" because a wrong name is the costly mistake: two pieces that a noisy
 * diarizer put with one enrolled voice, the rest unheard, must not name a stranger. UNCLEAR votes only ever
 * count against.
 */
export function decideName(votes: Readonly<Record<string, number>>, distinctPieces?: Readonly<Record<string, number>>): string | null | undefined {
  const entries = Object.entries(votes).filter(([vote, n]) => vote !== UNCLEAR && n > 0);
  const total = Object.values(votes).reduce((a, b) => a + b, 0);
  const best = entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  if (!best || best[1] < (best[0] === NOBODY ? MIN_NOBODY_VOTES : MIN_NAME_VOTES)) return undefined;
  // A name from one or two pieces heard again and again is one stretch of audio that sounds like someone: a
  // name needs that many different pieces of the voice.
  if (best[0] !== NOBODY && distinctPieces && (distinctPieces[best[0]] ?? 0) < MIN_NAME_VOTES) return undefined;
  // Against a name, a "nobody" vote counts double: it comes from a clip where every enrolled voice owned a
  // label and the piece carried none of them, which a stranger's piece does and an enrolled voice's rarely does.
  const against = total - best[1] + (best[0] === NOBODY ? 0 : (votes[NOBODY] ?? 0));
  if (best[1] < VERDICT_MARGIN * against) return undefined;
  return best[0] === NOBODY ? null : best[0];
}

/** A piece of a voice, the same however often it is played: its source and start. */
function pieceId(span: AudioSpan): string {
  const { from } = span;
  const source = "segment" in from ? `s${from.segment}` : "voice" in from ? `v${from.voice}` : `e${from.enrolled}`;
  return `${source}@${span.start.toFixed(3)}`;
}

function distinctCounts(pieces: Readonly<Record<string, readonly string[]>> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(pieces ?? {}).map(([vote, ids]) => [vote, ids.length]));
}

/** How far a verdict's votes must outweigh the rest. */
const VERDICT_MARGIN = 3;
const MIN_NAME_VOTES = 3;
const MIN_NOBODY_VOTES = 2;
