/**
 * Segment results and a probe diarizer for the speaker-settling unit tests, without audio: a script of
 * turns (true voice, words) laid out in time and cut into segments whose providers number the voices
 * their own way; the fake diarizer answers a probe plan from the true voice of each piece's source,
 * leaving pieces unlabelled or putting them with another voice of the clip as often as asked.
 */
import type { AskDiarizer } from "../../shared/domain/speakers/settle-speakers.js";
import type { AudioSpan } from "../../shared/domain/speakers/probe-plan.js";
import type { SegmentResult, Word } from "../../shared/domain/types.js";
import { seededRandom } from "../audio/seeded-random.js";

export interface ScriptedWord {
  voice: string;
  start: number;
  end: number;
}

/** Turns of `words` words each (0.4 s a word, 0.15 s between words, 0.8 s between turns). */
export function scriptWords(turns: ReadonlyArray<[voice: string, words: number]>): ScriptedWord[] {
  const out: ScriptedWord[] = [];
  let at = 0.5;
  for (const [voice, count] of turns) {
    for (let i = 0; i < count; i++) {
      out.push({ voice, start: at, end: at + 0.4 });
      at += 0.55;
    }
    at += 0.65;
  }
  return out;
}

export interface CutScript {
  results: SegmentResult[];
  /** results[i]'s local label -> true voice. */
  truth: Array<Record<string, string>>;
}

/** Cuts at every `length` seconds with `overlap` on the right; each segment numbers its voices in a seeded random order. */
export function cutScript(words: readonly ScriptedWord[], length: number, overlap: number, seed = 1): CutScript {
  const random = seededRandom(seed);
  const end = Math.max(...words.map((w) => w.end)) + 0.5;
  const results: SegmentResult[] = [];
  const truth: CutScript["truth"] = [];
  for (let index = 0, start = 0; start < end; index++, start += length) {
    const stop = Math.min(end, start + length + overlap);
    const inside = words.filter((w) => w.start >= start && w.end <= stop);
    const voices = random.shuffle([...new Set(inside.map((w) => w.voice))]);
    const labelOf = new Map(voices.map((v, n) => [v, `SPEAKER_0${n}`]));
    const localWords: Word[] = inside.map((w, n) => ({ word: `w${Math.round(w.start * 100)}`, start: w.start - start, end: w.end - start, speaker: labelOf.get(w.voice) }));
    results.push({
      jobId: "job",
      index,
      segment: { index, start, end: stop, ownStart: index === 0 ? 0 : start + overlap / 2, ownEnd: stop - overlap / 2 },
      text: localWords.map((w) => w.word).join(" "),
      words: localWords,
      spans: [],
      speakers: [...labelOf.values()],
    });
    truth.push(Object.fromEntries([...labelOf].map(([v, l]) => [l, v])));
  }
  return { results, truth };
}

export interface FakeDiarizerOptions {
  /** Probability a piece is left unlabelled. */
  unheard?: number;
  /** Probability a piece is put with another voice of the clip. */
  confused?: number;
  /** Every ask fails with this reason. */
  fail?: string;
  seed?: number;
}

export function fakeDiarizer(script: CutScript, words: readonly ScriptedWord[], opts: FakeDiarizerOptions = {}) {
  const random = seededRandom(opts.seed ?? 7);
  let asks = 0;
  const voiceOf = (span: AudioSpan): string => {
    if (!("segment" in span.from)) throw new Error("the fake diarizer reads segment spans only");
    const result = script.results[span.from.segment];
    const mid = result.segment.start + (span.start + span.end) / 2;
    const word = words.reduce((best, w) => (Math.abs((w.start + w.end) / 2 - mid) < Math.abs((best.start + best.end) / 2 - mid) ? w : best));
    return word.voice;
  };
  const ask: AskDiarizer = async (plan) => {
    asks++;
    if (opts.fail) return { failed: opts.fail };
    const voices = plan.pieces.map((p) => voiceOf(p.span));
    const distinct = [...new Set(voices)];
    const label = new Map(random.shuffle(distinct).map((v, n) => [v, `SPEAKER_${String(n).padStart(2, "0")}`]));
    const out: Word[] = [];
    plan.pieces.forEach((piece, i) => {
      if (random.chance(opts.unheard ?? 0)) return;
      let voice = voices[i];
      const others = distinct.filter((v) => v !== voice);
      if (others.length > 0 && random.chance(opts.confused ?? 0)) voice = random.pick(others);
      out.push({ word: "w", start: piece.at + 0.1, end: piece.at + 0.5, speaker: label.get(voice) });
    });
    return { words: out };
  };
  return { ask, asks: () => asks };
}

/** Share of words whose settled voice is their true voice's, under the best one-to-one naming. */
export function settledAccuracy(script: CutScript, map: Record<number, Record<string, string>>): { accuracy: number; voices: number } {
  const pairs = new Map<string, number>();
  let total = 0;
  script.results.forEach((r, i) => {
    for (const w of r.words ?? []) {
      const truth = script.truth[i][w.speaker!];
      const got = map[i]?.[w.speaker!] ?? "none";
      pairs.set(`${got}|${truth}`, (pairs.get(`${got}|${truth}`) ?? 0) + 1);
      total++;
    }
  });
  // Greedy one-to-one: largest agreements first.
  const used = new Set<string>();
  let right = 0;
  for (const [key, n] of [...pairs].sort((a, b) => b[1] - a[1])) {
    const [got, truth] = key.split("|");
    if (used.has(`g:${got}`) || used.has(`t:${truth}`)) continue;
    used.add(`g:${got}`);
    used.add(`t:${truth}`);
    right += n;
  }
  const voices = new Set(Object.values(map).flatMap((labels) => Object.values(labels))).size;
  return { accuracy: total ? right / total : 1, voices };
}
