import type { SegmentResult, Word } from "../types.js";
import { alignBoundaries, sortResults } from "../stitching/resolve-overlaps.js";
import { boundaryLinks, Chains, localLabels } from "./link-speakers.js";
import { speakerSamples, type SpeakerSample } from "./speaker-samples.js";
import { planProbe, top, type BookSpan, type ProbePlan, type ProbeSpeaker } from "./probe-plan.js";
import { readProbeVotes, UNCLAIMED } from "./probe-votes.js";
import { nodeKey, pairKey, type SpeakerBook } from "./speaker-book.js";

/**
 * One probe request: the plan's clip is sent to the provider's diarizer; the answer's words, or why there is
 * none, and `audioSeconds`, what the clip that went to the provider held (its padding included; 0 when it never
 * left, e.g. its audio could not be read; absent: the plan's duration). That is what probes are counted by.
 */
export type AskDiarizer = (plan: ProbePlan) => Promise<({ words: readonly Word[] } | { failed: string }) & { audioSeconds?: number }>;

export interface SettleOptions {
  /** Heads per probe clip: more heads, fewer requests, but a longer clip to wait for. */
  headsPerProbe?: number;
  /** Pieces per head and per ref voice in one clip. */
  headPieces?: number;
  refPieces?: number;
  /** Rounds of asks (the first one probe per head, later ones two) before a head goes to the fallback. */
  maxRounds?: number;
  /**
   * Votes already gathered for segment-local labels ("index/label" -> voice -> votes), by probes sent
   * as each result was stored (early-votes.ts): they count as a first round, so a step that finds them
   * decisive sends nothing.
   */
  prior?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** What asking for `prior` cost: carried into the book's probe count (`probes`) beside this step's own probes. */
  priorProbes?: { requests: number; seconds: number };
}

export interface SettleReport {
  heads: number;
  byOverlap: number;
  byProbe: number;
  newVoices: number;
  fallbacks: number;
  /** Probe requests this step sent, and the seconds of audio they held (`AskDiarizer`'s `audioSeconds`). */
  probes: number;
  probeSeconds: number;
}

/** How each chain of labels was settled: for tests and diagnosis, not for logs (the counts above are). */
export interface SettleDecision {
  nodes: Array<{ index: number; label: string }>;
  voice: string;
  how: "overlap" | "first" | "probe" | "new" | "fallback";
  votes: Record<string, number>;
}

/** A chain of segment-local labels that overlap words tie together (one voice across consecutive segments). */
interface Chain {
  id: string;
  nodes: Array<{ index: number; label: string }>;
  /** The voice it is, once known. */
  voice?: string;
  samples: SpeakerSample[];
  seconds: number;
  /**
   * What the settled label it continues hands on (SpeakerBook.edgeVotes): its votes, which count as this
   * chain's first, and its voice, which this chain keeps when nothing here decides otherwise (the overlap
   * words do tie the two); `weak` when that voice was itself the fallback's.
   */
  carried?: { votes: ReadonlyMap<string, number>; voice?: string; weak: boolean };
}

export const PROBE_DEFAULTS = { headsPerProbe: 4, headPieces: 3, refPieces: 2, maxRounds: 3 };
/** A reference piece: long enough for a diarizer's embedding, short enough to keep the clip's latency small. */
export const SAMPLE = { minSeconds: 1, maxSeconds: 2 };
/** Samples kept per new voice for later probes (its stored clip). */
const VOICE_SAMPLES = 4;
/** A head is new only with at most one known vote per this many of its pieces that carried a label of their own. */
const KNOWN_VOTES_PER_NEW_PIECE = 3;
/** Below this, a voice takes reference audio from a unanimous probe verdict too, not only from overlap links. */
const MIN_REFERENCE_SPANS = 2;

/**
 * Settles the speakers of the next consecutive segments of a job, given the
 * book of the segments before them: overlap words first (a label heard on
 * both sides of a cut is the same voice), then the provider's own diarizer
 * for the rest, asked with short probe clips of a few seconds of every known
 * voice (the refs) and of each unsettled one (the heads).
 *
 * Diarizers err: a piece may be left unlabelled or put with another voice of
 * the clip. So a head needs two pieces agreeing and outweighing the rest two
 * to one; a head is declared a new voice only when every known voice was
 * ruled out (heard as a solid control, in a clip where the head's pieces
 * clearly carried a label no ref piece had); anything less is asked again
 * (votes add up, including those gathered as each result was stored: `prior`;
 * each ask laid out differently, since a diarizer gives the same bytes the same
 * answer) and, after `maxRounds`, settled by the best evidence or by
 * exclusion, with a note. One verdict settles one chain, never more. New
 * voices from one probe are admitted per round, so two probes that both
 * found "someone new" cannot make one person two voices: the others are
 * asked again with the new voice among the refs.
 *
 * A label that only a verdict or the fallback settled hands its votes, not
 * its voice, to what continues it across the next cut (`edgeVotes`): there a
 * stronger claim on that voice wins, and a guess is decided again.
 *
 * `results` holds the segments to settle and, when the book is not empty,
 * the last settled segment before them (for its overlap).
 */
export async function settleSpeakers(
  book: SpeakerBook,
  results: readonly SegmentResult[],
  ask: AskDiarizer,
  options: SettleOptions = {},
): Promise<{ book: SpeakerBook; report: SettleReport; decisions: SettleDecision[] }> {
  const opts = { ...PROBE_DEFAULTS, ...options };
  const sorted = sortResults(results).filter((r) => r.index >= book.settled - 1);
  const fresh = sorted.filter((r) => r.index >= book.settled);
  const next: SpeakerBook = structuredClone(book);
  const report: SettleReport = { heads: 0, byOverlap: 0, byProbe: 0, newVoices: 0, fallbacks: 0, probes: 0, probeSeconds: 0 };
  if (fresh.length === 0) return { book: next, report, decisions: [] };
  next.settled = fresh[fresh.length - 1].index + 1;

  const chains = chainsOf(book, sorted, fresh);
  let present = presentVoices(book, chains);
  /** Reference spans a verdict lent its voice (applyVerdicts): taken back if the verdict is not kept. */
  const enriched = new Map<string, BookSpan[]>();
  report.byOverlap = chains.filter((c) => c.voice !== undefined).length;
  for (const chain of chains) if (chain.voice !== undefined) enrich(next, chain);
  const heads = chains.filter((c) => c.voice === undefined);
  report.heads = heads.length;

  // With no voice known yet, the first segment that speaks defines them: its own request told its voices apart.
  if (next.voices.length === 0 && heads.length > 0) {
    const first = Math.min(...heads.map((c) => c.nodes[0].index));
    for (const chain of heads.filter((c) => c.nodes[0].index === first)) addVoice(next, chain, present, report);
  }

  const votes = new Map<string, Map<string, number>>();
  const how = new Map<string, SettleDecision["how"]>();
  for (const chain of heads) if (chain.voice !== undefined) how.set(chain.id, "first");
  // Votes gathered as the results were stored count first: where they are decisive, nothing is asked.
  const known = new Set(next.voices.map((v) => v.id));
  const early: Array<{ chain: Chain; voice: string; margin: number; unanimous: boolean }> = [];
  for (const chain of heads.filter((c) => c.voice === undefined)) {
    const tally = new Map([...(chain.carried?.votes ?? [])].filter(([voice]) => known.has(voice)));
    for (const { index, label } of chain.nodes) {
      for (const [voice, n] of Object.entries(opts.prior?.[nodeKey(index, label)] ?? {})) {
        if (known.has(voice)) tally.set(voice, (tally.get(voice) ?? 0) + n);
      }
    }
    if (tally.size === 0) continue;
    votes.set(chain.id, tally);
    const verdict = decideKnown(tally);
    if (verdict) early.push({ chain, ...verdict });
  }
  applyVerdicts(early, next, present, how, report, enriched);

  let pending = heads.filter((c) => c.voice === undefined && c.samples.length > 0);
  /** Per head: the voices ruled out for it so far, and the pieces that carried a label of their own. */
  const ruledOut = new Map<string, { pieces: number; voices: Set<string> }>();
  let rounds = opts.maxRounds;
  for (let round = 0; round < rounds && pending.length > 0; round++) {
    // A head the first ask left unclear is asked twice at once, with other pieces: rounds are what a
    // settling step waits for, one probe latency each, so fewer of them matter more than fewer requests.
    const turns = round === 0 ? [0] : [2 * round - 1, 2 * round];
    const groups: Array<{ group: Chain[]; turn: number }> = [];
    for (const turn of turns) {
      for (let i = 0; i < pending.length; i += opts.headsPerProbe) groups.push({ group: pending.slice(i, i + opts.headsPerProbe), turn });
    }
    const asked = await Promise.all(
      groups.map(async ({ group, turn }) => {
        const refs: ProbeSpeaker[] = next.voices.map((v) => ({ key: v.id, role: "ref", spans: rotate(v.spans, turn, opts.refPieces) }));
        const plan = planProbe([
          ...refs,
          ...group.map((c) => ({ key: c.id, role: "head" as const, spans: rotate(c.samples.map(segmentSpan), turn, opts.headPieces) })),
        ].filter((speaker) => speaker.spans.length > 0), { turn });
        if (!plan) return { group, plan, answer: { failed: "nothing to ask" } as const };
        const answer = await ask(plan);
        countProbe(report, plan, answer);
        return { group, plan, answer };
      }),
    );

    // Votes first, for every head of every probe of this round; then verdicts, strongest first, so a
    // weak verdict cannot take a voice in a segment from a chain with a strong claim to it.
    const candidates: Array<{ chain: Chain; voice: string; margin: number; unanimous: boolean }> = [];
    const newByProbe: Array<Map<string, Chain[]>> = [];
    for (const { group, plan, answer } of asked) {
      const newGroups = new Map<string, Chain[]>();
      newByProbe.push(newGroups);
      if (!plan || "failed" in answer) {
        if ("failed" in answer) next.notes.push(`a speaker probe failed: ${answer.failed}`);
        continue;
      }
      const read = readProbeVotes(plan, answer.words);
      for (const [pair, n] of read.confusedRefs) next.closeness[pair] = (next.closeness[pair] ?? 0) + n;
      for (const chain of group) {
        const tally = votes.get(chain.id) ?? new Map<string, number>();
        const heard = read.headVotes.get(chain.id) ?? new Map<string, number>();
        for (const [vote, n] of heard) if (!vote.startsWith(UNCLAIMED)) tally.set(vote, (tally.get(vote) ?? 0) + n);
        votes.set(chain.id, tally);

        const known = decideKnown(tally);
        if (known) {
          candidates.push({ chain, ...known });
          continue;
        }
        noteCloseness(next, tally);
        const unclaimed = top(new Map([...heard].filter(([vote]) => vote.startsWith(UNCLAIMED))));
        const against = [...heard.values()].reduce((a, b) => a + b, 0) - (unclaimed?.count ?? 0);
        // Nobody is new until every known voice was ruled out: heard as a solid control (two pieces or more, one
        // label) in a clip where this head's pieces clearly carried a label no ref piece had. Not necessarily in
        // one clip: with a few voices, some control is muddled in most clips (a piece missed or put elsewhere),
        // and a control heard on one piece only may hold another voice's label, leaving its own looking new.
        const clear =
          unclaimed !== undefined &&
          unclaimed.count >= 2 &&
          unclaimed.count >= 2 * against &&
          !read.refPieceLabels.has(unclaimed.key.slice(UNCLAIMED.length));
        // A few known votes among many pieces with a label of their own are the misplaced pieces of a new voice.
        const evidence = ruledOut.get(chain.id) ?? { pieces: 0, voices: new Set<string>() };
        ruledOut.set(chain.id, evidence);
        if (clear) {
          evidence.pieces += unclaimed.count;
          for (const ref of read.solidRefs) evidence.voices.add(ref);
        }
        const isNew =
          clear &&
          next.voices.every((v) => evidence.voices.has(v.id)) &&
          knownVotes(tally) <= Math.max(1, evidence.pieces / KNOWN_VOTES_PER_NEW_PIECE);
        if (isNew) newGroups.set(unclaimed.key, [...(newGroups.get(unclaimed.key) ?? []), chain]);
      }
    }
    applyVerdicts(candidates, next, present, how, report, enriched);
    // A diarizer that answered none of this round's probes is not asked again: the fallback decides now,
    // so a provider that never answers costs one round, not four.
    if (asked.every(({ plan, answer }) => !plan || "failed" in answer)) break;
    // New voices from one probe only: the others are asked again with them among the refs.
    const admitted = newByProbe.find((groups) => groups.size > 0);
    let added = false;
    for (const members of admitted?.values() ?? []) {
      // Two chains of one segment given one new label: the diarizer contradicts the segment's own request; ask again.
      if (sharesSegment(members)) continue;
      const [first, ...rest] = members;
      addVoice(next, first, present, report);
      for (const chain of rest) attach(next, chain, first.voice!, present);
      for (const chain of members) how.set(chain.id, "new");
      report.byProbe += members.length;
      added = true;
    }
    pending = pending.filter((c) => c.voice === undefined);
    // The heads still open were never heard beside a voice admitted in the last round: the fallback would
    // guess among the others. One more round (once) asks them with it.
    if (added && round === rounds - 1 && rounds === opts.maxRounds) rounds++;
  }

  // Verdicts of different rounds meet only here: one given early on a few votes may hold a voice in a segment
  // that a chain decided later on many more votes also claims, which the conflict rule then sent to the
  // fallback. Decided again all at once, strongest first, the weaker claim yields instead.
  present = redecideByStrength(next, chains, heads, votes, how, enriched, report);
  for (const chain of heads.filter((c) => c.voice === undefined)) {
    const kept = chain.carried?.voice;
    if (kept !== undefined && next.voices.some((v) => v.id === kept) && !present.conflicts(chain, kept)) {
      // Nothing here outweighed what the overlap words tie it to: it stays that voice, as weak as it was.
      attach(next, chain, kept, present);
      if (chain.carried!.weak) {
        how.set(chain.id, "fallback");
        report.fallbacks++;
        for (const { index, label } of chain.nodes) next.weak.push(nodeKey(index, label));
      } else {
        how.set(chain.id, "probe");
        report.byProbe++;
      }
      continue;
    }
    settleByFallback(next, chain, votes.get(chain.id), present, report);
    how.set(chain.id, "fallback");
  }
  for (const chain of chains) {
    for (const { index, label } of chain.nodes) (next.map[index] ??= {})[label] = chain.voice!;
    const voice = next.voices.find((v) => v.id === chain.voice);
    if (voice) voice.seconds += chain.seconds;
  }
  next.edgeVotes = {};
  for (const chain of chains) {
    const decided = how.get(chain.id);
    if (decided !== "probe" && decided !== "fallback") continue;
    for (const { index, label } of chain.nodes) {
      if (index === next.settled - 1) next.edgeVotes[nodeKey(index, label)] = Object.fromEntries(votes.get(chain.id) ?? []);
    }
  }
  // Cumulative, so the book of the last settled prefix holds every probe of the steps that led to it (see job-billing.ts).
  next.probes = {
    requests: book.probes.requests + (opts.priorProbes?.requests ?? 0) + report.probes,
    seconds: book.probes.seconds + (opts.priorProbes?.seconds ?? 0) + report.probeSeconds,
  };
  const decisions = chains.map((c) => ({
    nodes: c.nodes,
    voice: c.voice!,
    how: how.get(c.id) ?? "overlap",
    votes: Object.fromEntries(votes.get(c.id) ?? []),
  }));
  return { book: next, report, decisions };
}

/** A probe counts by what reached the provider: a clip that never left costs nothing. */
export function countProbe(spent: { probes: number; probeSeconds: number }, plan: ProbePlan, answer: { audioSeconds?: number }): void {
  const seconds = answer.audioSeconds ?? plan.duration;
  if (seconds <= 0) return;
  spent.probes++;
  spent.probeSeconds += seconds;
}

/** Verdicts strongest first, each only where its voice is not already talking in the chain's segments. */
function applyVerdicts(
  verdicts: Array<{ chain: Chain; voice: string; margin: number; unanimous: boolean }>,
  book: SpeakerBook,
  present: PresentVoices,
  how: Map<string, SettleDecision["how"]>,
  report: SettleReport,
  enriched: Map<string, BookSpan[]>,
): void {
  verdicts.sort((a, b) => b.margin - a.margin || (a.chain.id < b.chain.id ? -1 : 1));
  for (const { chain, voice, unanimous } of verdicts) {
    if (chain.voice !== undefined || present.conflicts(chain, voice)) continue;
    attach(book, chain, voice, present);
    how.set(chain.id, "probe");
    // Sure enough to lend a voice with scarce reference audio some more.
    if (unanimous) {
      const added = enrich(book, chain, MIN_REFERENCE_SPANS);
      if (added.length) enriched.set(chain.id, added);
    }
    report.byProbe++;
  }
}

/**
 * Every chain a verdict settled in this step, and every one still open, decided again from all the votes it
 * gathered, strongest first; the chains settled otherwise (overlap, the first segment, new voices) stay. A
 * chain that loses its voice gives back the reference spans its verdict lent it. Returns the voices present
 * after it, for the fallback.
 */
function redecideByStrength(
  book: SpeakerBook,
  chains: readonly Chain[],
  heads: readonly Chain[],
  votes: ReadonlyMap<string, ReadonlyMap<string, number>>,
  how: Map<string, SettleDecision["how"]>,
  enriched: Map<string, BookSpan[]>,
  report: SettleReport,
): PresentVoices {
  const open = heads.filter((c) => c.voice === undefined || how.get(c.id) === "probe");
  const before = new Map(open.map((c) => [c.id, c.voice]));
  for (const chain of open) {
    if (chain.voice !== undefined) report.byProbe--;
    chain.voice = undefined;
    how.delete(chain.id);
  }
  const present = presentVoices(book, chains);
  const verdicts = open.flatMap((chain) => {
    const verdict = decideKnown(votes.get(chain.id) ?? new Map());
    return verdict ? [{ chain, ...verdict }] : [];
  });
  const lent = new Map(enriched);
  enriched.clear();
  applyVerdicts(verdicts, book, present, how, report, enriched);
  for (const [chainId, spans] of lent) {
    const chain = open.find((c) => c.id === chainId);
    if (!chain || chain.voice === before.get(chainId)) continue;
    const voice = book.voices.find((v) => v.id === before.get(chainId));
    if (voice) voice.spans = voice.spans.filter((span) => !spans.includes(span));
  }
  return present;
}

/**
 * Known voice `v` if at least two pieces say so and they outweigh every other
 * answer two to one (one misplaced piece among three is not enough to be
 * sure: ask again). Whether `v` is free in the chain's segments is checked
 * when verdicts are applied, strongest first.
 */
function decideKnown(tally: ReadonlyMap<string, number>): { voice: string; margin: number; unanimous: boolean } | undefined {
  const best = top(tally);
  if (!best || best.count < 2) return undefined;
  const others = [...tally].filter(([k]) => k !== best.key).reduce((a, [, n]) => a + n, 0);
  if (best.count < 2 * others + 1e-9) return undefined;
  return { voice: best.key, margin: best.count - others, unanimous: others === 0 && best.count >= 3 };
}

function knownVotes(tally: ReadonlyMap<string, number>): number {
  return [...tally.values()].reduce((a, b) => a + b, 0);
}

/** A head whose votes split between voices says those voices sound alike to the diarizer. */
function noteCloseness(book: SpeakerBook, tally: ReadonlyMap<string, number>): void {
  const voted = [...tally.keys()];
  for (let i = 0; i < voted.length; i++) {
    for (let j = i + 1; j < voted.length; j++) {
      const pair = pairKey(voted[i], voted[j]);
      book.closeness[pair] = (book.closeness[pair] ?? 0) + 1;
    }
  }
}

/**
 * What no answer settled: the voice most pieces pointed at, if any did; else,
 * since the provider told this label apart from the others in its segment,
 * the known voice not talking there that was heard nearest in time; else a
 * new voice. Marked weak either way.
 */
function settleByFallback(
  book: SpeakerBook,
  chain: Chain,
  tally: ReadonlyMap<string, number> | undefined,
  present: PresentVoices,
  report: SettleReport,
): void {
  report.fallbacks++;
  const allowed = (v: string) => !present.conflicts(chain, v);
  const voted = top(new Map([...(tally ?? new Map<string, number>())].filter(([v]) => allowed(v))));
  const nearest = book.voices
    .filter((v) => allowed(v.id))
    .map((v) => ({ id: v.id, distance: present.distance(chain, v.id) }))
    .sort((a, b) => a.distance - b.distance)[0];
  const voice = voted?.key ?? nearest?.id;
  book.notes.push(
    `segment ${chain.nodes[0].index}: a voice the diarizer did not settle was ${voted ? "given the voice most probe pieces pointed at" : voice ? "given by exclusion to the nearest voice not talking there" : "kept as a new voice"}`,
  );
  if (voice) attach(book, chain, voice, present);
  else addVoice(book, chain, present, report);
  for (const { index, label } of chain.nodes) book.weak.push(nodeKey(index, label));
}

function attach(book: SpeakerBook, chain: Chain, voice: string, present: PresentVoices): void {
  chain.voice = voice;
  present.add(chain, voice);
}

/**
 * A voice first heard only in scraps gets reference audio from a chain that
 * overlap words tie to it: never from a probe's verdict, because a wrong
 * verdict would then put another person's voice into every later probe.
 */
function enrich(book: SpeakerBook, chain: Chain, upTo = VOICE_SAMPLES): BookSpan[] {
  const entry = book.voices.find((v) => v.id === chain.voice);
  if (!entry || entry.spans.length >= upTo) return [];
  const added = chain.samples.slice(0, upTo - entry.spans.length).map(segmentSpan);
  entry.spans.push(...added);
  return added;
}

function addVoice(book: SpeakerBook, chain: Chain, present: PresentVoices, report: SettleReport): void {
  const id = `V${book.voices.length}`;
  book.voices.push({ id, spans: chain.samples.slice(0, VOICE_SAMPLES).map(segmentSpan), seconds: 0 });
  attach(book, chain, id, present);
  report.newVoices++;
}

export function segmentSpan(sample: SpeakerSample): BookSpan {
  return { from: { segment: sample.index }, start: sample.start, end: sample.end };
}

/**
 * `count` items starting at round * count, wrapping: each ask uses other
 * pieces where there are any, and a voice with less reference audio than
 * that has its pieces played again (one stray verdict on one piece must not
 * decide what the voice is called in the whole clip).
 */
export function rotate<T>(items: readonly T[], round: number, count: number): T[] {
  if (items.length === 0) return [];
  return Array.from({ length: count }, (_, i) => items[(round * count + i) % items.length]);
}

function sharesSegment(chains: readonly Chain[]): boolean {
  const seen = new Set<number>();
  for (const chain of chains) {
    for (const { index } of chain.nodes) {
      if (seen.has(index)) return true;
    }
    for (const { index } of chain.nodes) seen.add(index);
  }
  return false;
}

/**
 * Links the labels of consecutive segments through their overlap words into
 * chains; a chain that reaches back into the last settled segment is that
 * label's voice.
 */
function chainsOf(book: SpeakerBook, sorted: readonly SegmentResult[], fresh: readonly SegmentResult[]): Chain[] {
  const links = new Chains();
  const voiceRoot = (voice: string) => `voice\u0000${voice}`;
  const node = (index: number, label: string) => `${index}\u0000${label}`;
  const voiceOfRoot: Array<[string, string]> = [];
  const votesOfRoot: Array<[string, Readonly<Record<string, number>>, string | undefined, boolean]> = [];
  const weak = new Set(book.weak);
  for (const alignment of alignBoundaries(sorted)) {
    if (alignment.right !== alignment.left + 1) continue;
    for (const link of boundaryLinks(alignment)) {
      let left: string | undefined;
      if (alignment.left >= book.settled) left = node(alignment.left, link.left);
      else {
        // A label a probe verdict or the fallback settled hands on its votes, not its voice: one verdict on a
        // few pieces (or a guess) must not carry a whole stretch, nor block a stronger claim on that voice.
        const key = nodeKey(alignment.left, link.left);
        const votes = book.edgeVotes?.[key];
        const settledVoice = book.map[alignment.left]?.[link.left];
        if (votes !== undefined) {
          left = `votes\u0000${key}`;
          votesOfRoot.push([left, votes, settledVoice, weak.has(key)]);
        } else if (settledVoice !== undefined) {
          left = voiceRoot(settledVoice);
          voiceOfRoot.push([left, settledVoice]);
        }
      }
      if (left !== undefined) links.union(left, node(alignment.right, link.right));
    }
  }
  // Union roots are whichever node came first: find each chain's fixed voice, or the votes it carries, through them.
  const fixedVoice = new Map<string, string>();
  for (const [root, voice] of voiceOfRoot) if (!fixedVoice.has(links.find(root))) fixedVoice.set(links.find(root), voice);
  const carried = new Map<string, NonNullable<Chain["carried"]> & { votes: Map<string, number> }>();
  for (const [root, votes, voice, isWeak] of votesOfRoot) {
    const entry = carried.get(links.find(root)) ?? { votes: new Map<string, number>(), voice, weak: isWeak };
    for (const [v, n] of Object.entries(votes)) entry.votes.set(v, (entry.votes.get(v) ?? 0) + n);
    carried.set(links.find(root), entry);
  }

  // Samples come from the fresh segments only, sampled per chain under a temporary label.
  const byRoot = new Map<string, Chain>();
  const tempMap: Record<number, Record<string, string>> = {};
  for (const result of fresh) {
    tempMap[result.index] = {};
    for (const label of localLabels(result)) {
      const root = links.find(node(result.index, label));
      let chain = byRoot.get(root);
      if (!chain) {
        chain = { id: `chain${byRoot.size}`, nodes: [], samples: [], seconds: 0, carried: fixedVoice.has(root) ? undefined : carried.get(root) };
        chain.voice = fixedVoice.get(root);
        byRoot.set(root, chain);
      }
      chain.nodes.push({ index: result.index, label });
      tempMap[result.index][label] = chain.id;
    }
  }
  const chains = [...byRoot.values()];
  const sampled = speakerSamples(fresh, tempMap, { perSpeaker: 6, ...SAMPLE });
  for (const chain of chains) {
    chain.samples = sampled.global[chain.id] ?? [];
    chain.seconds = speechSeconds(fresh, chain);
  }
  // Chains that speak no word at all (a label the provider listed but never used) need no verdict.
  return chains.filter((c) => c.voice !== undefined || c.seconds > 0);
}

function speechSeconds(results: readonly SegmentResult[], chain: Chain): number {
  let total = 0;
  for (const { index, label } of chain.nodes) {
    const result = results.find((r) => r.index === index);
    if (!result) continue;
    const units = result.words ?? result.spans;
    for (const u of units) if (u.speaker === label) total += Math.max(0, Math.min(u.end - u.start, 2));
  }
  return total;
}

/** Which voices talk in which segment, so a verdict never gives one segment two labels of the same voice. */
interface PresentVoices {
  add(chain: Chain, voice: string): void;
  conflicts(chain: Chain, voice: string): boolean;
  /** Segments between the chain and the nearest segment where `voice` talks. */
  distance(chain: Chain, voice: string): number;
}

function presentVoices(book: SpeakerBook, chains: readonly Chain[]): PresentVoices {
  const bySegment = new Map<number, Set<string>>();
  for (const [index, labels] of Object.entries(book.map)) bySegment.set(Number(index), new Set(Object.values(labels)));
  const add = (chain: Chain, voice: string) => {
    for (const { index } of chain.nodes) {
      const set = bySegment.get(index) ?? new Set<string>();
      set.add(voice);
      bySegment.set(index, set);
    }
  };
  for (const chain of chains) if (chain.voice !== undefined) add(chain, chain.voice);
  return {
    add,
    conflicts: (chain, voice) =>
      chain.nodes.some(({ index }) => {
        const set = bySegment.get(index);
        return set !== undefined && set.has(voice) && !isOwnNode(chains, chain, index, voice);
      }),
    distance: (chain, voice) => {
      let best = Infinity;
      for (const [index, voices] of bySegment) {
        if (!voices.has(voice)) continue;
        for (const n of chain.nodes) best = Math.min(best, Math.abs(n.index - index));
      }
      return best;
    },
  };
}

/** The voice is in that segment only through this very chain (a chain never conflicts with itself). */
function isOwnNode(chains: readonly Chain[], chain: Chain, index: number, voice: string): boolean {
  return !chains.some((c) => c !== chain && c.voice === voice && c.nodes.some((n) => n.index === index));
}
