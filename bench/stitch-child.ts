/**
 * The stitcher's CPU work on a long transcript, in a fresh process so its
 * peak RSS is this transcript's: parse the stored segment results, link
 * speakers, stitch, render all five formats. Segment results are generated
 * the way a provider answers: dense 4-voice speech, cut every chunk at the
 * widest pause before the target, each segment hearing the words wholly
 * inside its audio, in local time, with its own speaker numbering.
 */
import { linkSpeakers } from "../shared/domain/speakers/link-speakers.js";
import { stitchSegments } from "../shared/domain/stitching/stitch.js";
import { renderTranscript } from "../shared/domain/formats/index.js";
import { OUTPUT_FORMATS, type CutSegment, type SegmentResult, type TextSpan, type Word } from "../shared/domain/types.js";
import { fatal, serve } from "./lib/child.js";
import { peakRssMb, resetPeakRss } from "./lib/proc.js";

export interface StitchChildArgs {
  hours: number;
  chunkSeconds: number;
  overlapSeconds: number;
  seed: number;
}

export interface StitchRun {
  hours: number;
  segments: number;
  words: number;
  resultBytes: number;
  /** Seconds per phase, and their sum. */
  parseSeconds: number;
  linkSeconds: number;
  stitchSeconds: number;
  renderSeconds: number;
  totalSeconds: number;
  outputBytes: number;
  unresolvedSpeakers: number;
  speakers: number;
  /** RSS with the stored results (JSON text) in memory, before stitching, MB. */
  baselineRssMb: number;
  maxRssMb: number;
  /** Peak over baseline: what stitching itself needed, MB. */
  peakOverBaselineMb: number;
}

interface SpokenWord {
  word: string;
  start: number;
  end: number;
  speaker: number;
}

const VOCABULARY = (
  "the a to of and we it is that for on this with you they be have not are as at our can will so but what about " +
  "meeting budget quarter pipeline segment speaker latency provider customer release schedule review design test " +
  "deploy system memory queue bucket stitch transcript minute second hour question answer agree think maybe"
).split(" ");

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** About 150 words a minute, turns of 3-40 words among 4 voices. */
function speech(seconds: number, seed: number): SpokenWord[] {
  const rand = random(seed);
  const words: SpokenWord[] = [];
  let t = 0.5;
  let speaker = 0;
  while (t < seconds - 2) {
    const turn = 3 + Math.floor(37 * rand() ** 2);
    for (let i = 0; i < turn && t < seconds - 2; i++) {
      const length = 0.18 + rand() * 0.22;
      words.push({ word: VOCABULARY[Math.floor(rand() * VOCABULARY.length)], start: t, end: t + length, speaker });
      t += length + 0.05 + rand() * 0.12;
    }
    speaker = (speaker + 1 + Math.floor(rand() * 3)) % 4;
    t += 0.3 + rand() * 0.9;
  }
  return words;
}

/** Cuts at the middle of the widest pause in the 15 s before each target, as the cut planner would. */
function cutSegments(words: SpokenWord[], duration: number, chunk: number, overlap: number): CutSegment[] {
  const cuts: number[] = [];
  let previous = 0;
  let w = 0;
  while (duration - previous > chunk) {
    const target = previous + chunk;
    let best = target;
    let widest = -1;
    for (; w + 1 < words.length && words[w + 1].start < target; w++) {
      const gapStart = words[w].end;
      const gapEnd = words[w + 1].start;
      if (gapEnd > target - 15 && gapEnd - gapStart > widest) {
        widest = gapEnd - gapStart;
        best = (gapStart + gapEnd) / 2;
      }
    }
    cuts.push(best);
    previous = best;
  }
  const edges = [0, ...cuts, duration];
  return edges.slice(0, -1).map((ownStart, index) => ({
    index,
    ownStart,
    ownEnd: edges[index + 1],
    start: Math.max(0, ownStart - overlap / 2),
    end: Math.min(duration, edges[index + 1] + overlap / 2),
  }));
}

function hear(words: SpokenWord[], segment: CutSegment, jobId: string): SegmentResult {
  const heard = words.filter((w) => w.start >= segment.start && w.end <= segment.end);
  const labels = new Map<number, string>();
  const label = (speaker: number) => {
    if (!labels.has(speaker)) labels.set(speaker, `SPEAKER_${String(labels.size).padStart(2, "0")}`);
    return labels.get(speaker) as string;
  };
  const local: Word[] = heard.map((w) => ({ word: w.word, start: w.start - segment.start, end: w.end - segment.start, speaker: label(w.speaker) }));
  const spans: TextSpan[] = [];
  for (const word of local) {
    const last = spans[spans.length - 1];
    if (last && last.speaker === word.speaker) {
      last.end = word.end;
      last.text += ` ${word.word}`;
    } else spans.push({ start: word.start, end: word.end, text: word.word, speaker: word.speaker });
  }
  return {
    jobId,
    index: segment.index,
    segment,
    language: "en",
    text: local.map((w) => w.word).join(" "),
    words: local,
    spans,
    speakers: [...labels.values()],
  };
}

function storedResults(args: StitchChildArgs): { stored: string[]; words: number; duration: number } {
  const duration = args.hours * 3600;
  const words = speech(duration, args.seed);
  const segments = cutSegments(words, duration, args.chunkSeconds, args.overlapSeconds);
  return { stored: segments.map((segment) => JSON.stringify(hear(words, segment, "bench"))), words: words.length, duration };
}

const seconds = (from: number) => (performance.now() - from) / 1000;
const rssMb = () => process.memoryUsage().rss / 2 ** 20;

serve(
  {
    run: (args: StitchChildArgs): StitchRun => {
      const { stored, words, duration } = storedResults(args);
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      // Generating the results peaks higher than holding them: measure the stitch's own peak from here.
      resetPeakRss();
      const baselineRssMb = rssMb();

      let t = performance.now();
      const results = stored.map((json) => JSON.parse(json) as SegmentResult);
      const parseSeconds = seconds(t);
      t = performance.now();
      const linked = linkSpeakers(results);
      const linkSeconds = seconds(t);
      t = performance.now();
      const transcript = stitchSegments(results, { duration, diarize: true, speakerMap: linked.map });
      const stitchSeconds = seconds(t);
      t = performance.now();
      let outputBytes = 0;
      for (const format of OUTPUT_FORMATS) outputBytes += Buffer.byteLength(renderTranscript(transcript, format));
      const renderSeconds = seconds(t);

      const maxRssMb = peakRssMb();
      return {
        hours: args.hours,
        segments: results.length,
        words,
        resultBytes: stored.reduce((sum, json) => sum + json.length, 0),
        parseSeconds,
        linkSeconds,
        stitchSeconds,
        renderSeconds,
        totalSeconds: parseSeconds + linkSeconds + stitchSeconds + renderSeconds,
        outputBytes,
        unresolvedSpeakers: linked.unresolved.length,
        speakers: transcript.speakers.length,
        baselineRssMb,
        maxRssMb,
        peakOverBaselineMb: maxRssMb - baselineRssMb,
      };
    },
  },
  { pid: process.pid },
);

process.on("uncaughtException", fatal);
