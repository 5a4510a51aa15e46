import type { SegmentResult } from "../types.js";
import { alignBoundaries, sortResults } from "../stitching/resolve-overlaps.js";
import { boundaryLinks, localLabels } from "./link-speakers.js";
import { speakerSamples } from "./speaker-samples.js";
import { planProbe, type ProbeSpeaker } from "./probe-plan.js";
import { readProbeVotes, UNCLAIMED } from "./probe-votes.js";
import { countProbe, PROBE_DEFAULTS, rotate, SAMPLE, segmentSpan, type AskDiarizer } from "./settle-speakers.js";
import { nodeKey, type SpeakerBook } from "./speaker-book.js";

/**
 * The same clip as a settling step's first round: lighter ones (one piece a
 * voice) were measured cheaper by a fifth but let wrong verdicts through
 * under a noisy diarizer (98.4 % and a phantom voice on the 1-hour meeting).
 */
const EARLY = { refPieces: PROBE_DEFAULTS.refPieces, headPieces: PROBE_DEFAULTS.headPieces };

export interface EarlyVotes {
  /** "index/label" -> voice -> votes, for the labels of one segment that overlap words do not tie to its left neighbour. */
  votes: Record<string, Record<string, number>>;
  /** Probe requests sent for these votes and the seconds of audio they held: the settling step that reads the votes adds them to its book. */
  probes: number;
  probeSeconds: number;
  failed?: string;
}

/**
 * The first ask for one segment's voices, sent as soon as its result is
 * stored, while other segments are still at the provider: its labels that
 * overlap words do not already tie to the previous segment are probed
 * against the voices settled so far. The votes are only evidence; the
 * settling step (settle-speakers.ts) decides, in order, and asks again or
 * admits new voices where they are not decisive. So most of the probing is
 * done before the last segment comes back, and the step after it seldom
 * needs the provider.
 */
export async function earlyVotes(
  book: SpeakerBook,
  results: readonly SegmentResult[],
  index: number,
  ask: AskDiarizer,
): Promise<EarlyVotes> {
  const out: EarlyVotes = { votes: {}, probes: 0, probeSeconds: 0 };
  const sorted = sortResults(results);
  const result = sorted.find((r) => r.index === index);
  if (!result || book.voices.length === 0) return out;

  const linked = new Set<string>();
  for (const alignment of alignBoundaries(sorted)) {
    if (alignment.right !== index || alignment.left !== index - 1) continue;
    for (const link of boundaryLinks(alignment)) linked.add(link.right);
  }
  const labels = localLabels(result).filter((label) => !linked.has(label));
  const samples = speakerSamples([result], { [index]: Object.fromEntries(labels.map((l) => [l, l])) }, { perSpeaker: EARLY.headPieces, ...SAMPLE });
  const heads: ProbeSpeaker[] = labels
    .map((label) => ({ key: label, role: "head" as const, spans: (samples.global[label] ?? []).map(segmentSpan) }))
    .filter((h) => h.spans.length > 0);
  if (heads.length === 0) return out;
  const refs: ProbeSpeaker[] = book.voices.map((v) => ({ key: v.id, role: "ref", spans: rotate(v.spans, 0, EARLY.refPieces) }));

  const groups: ProbeSpeaker[][] = [];
  for (let i = 0; i < heads.length; i += PROBE_DEFAULTS.headsPerProbe) groups.push(heads.slice(i, i + PROBE_DEFAULTS.headsPerProbe));
  await Promise.all(
    groups.map(async (group) => {
      // Heads first: a settling step that asks again lays its clip out refs first, so the bytes differ.
      const plan = planProbe([...group, ...refs.filter((r) => r.spans.length > 0)]);
      if (!plan) return;
      const answer = await ask(plan);
      countProbe(out, plan, answer);
      if ("failed" in answer) {
        out.failed = answer.failed;
        return;
      }
      const read = readProbeVotes(plan, answer.words);
      for (const head of group) {
        const tally = read.headVotes.get(head.key);
        if (!tally) continue;
        const known = Object.fromEntries([...tally].filter(([vote]) => !vote.startsWith(UNCLAIMED)));
        if (Object.keys(known).length > 0) out.votes[nodeKey(index, head.key)] = known;
      }
    }),
  );
  return out;
}
