/**
 * What one session's client saw, against the truth of what it streamed: completed-event latency, the
 * gaps between deltas while someone speaks, and which true words no completed event carries.
 * Pure: the benchmark gathers the logs, this turns them into figures.
 */
import type { TrueWord } from "../test/audio/recording.js";
import { APPEND_SAMPLES, type ClientLog } from "./realtime-client.js";

const SAMPLE_RATE = 16000;
/** A heard word matches a true one with the same text whose time is this close (session seconds). */
const WORD_TIME_TOLERANCE = 0.5;

export interface SessionScore {
  sessionId: string;
  /** Which conversation the session streamed. */
  label: string;
  audioSeconds: number;
  items: number;
  failed: number;
  /** Committed items never answered before the client gave up. */
  unanswered: number;
  /** Seconds, per answered item: the append holding the item's last sample sent -> completed event. */
  latency: number[];
  /** Of that: append sent -> speech_stopped (or committed) received: the VAD's hangover, mostly. */
  endDetection: number[];
  /** speech_stopped (or committed) received -> completed: the provider request and the gateway. */
  transcription: number[];
  /** Seconds between deltas while someone speaks (speech_started -> first delta -> ... -> the item's last audio sent). */
  deltaGaps: number[];
  /** Of those, the first (speech_started -> first delta) and the ones from one delta to the next. */
  firstDelta: number[];
  betweenDeltas: number[];
  /** Deltas per answered item, and the item's audio seconds, in the same order. */
  deltasPerItem: number[];
  itemSeconds: number[];
  trueWords: number;
  lost: TrueWord[];
  /** For each lost word, in the same order: the heard words within 1.5 s of it ("word@seconds"). */
  heardNearLost: string[];
  /** Heard words no true word accounts for (a word heard twice, a hallucination). */
  extra: Array<{ word: string; start: number; end: number }>;
}

export function scoreSession(log: ClientLog, truth: readonly TrueWord[], label = log.sessionId): SessionScore {
  const score: SessionScore = {
    sessionId: log.sessionId,
    label,
    audioSeconds: log.audioSeconds,
    items: log.items.length,
    failed: log.items.filter((it) => it.failed).length,
    unanswered: log.items.filter((it) => it.committedAt !== undefined && it.answeredAt === undefined).length,
    latency: [],
    endDetection: [],
    transcription: [],
    deltaGaps: [],
    firstDelta: [],
    betweenDeltas: [],
    deltasPerItem: [],
    itemSeconds: [],
    trueWords: truth.length,
    lost: [],
    heardNearLost: [],
    extra: [],
  };
  for (const item of log.items) {
    if (item.answeredAt === undefined || item.end === undefined || item.failed) continue;
    const sent = sentAtOfSample(log, Math.round(item.end * SAMPLE_RATE));
    score.latency.push((item.answeredAt - sent) / 1000);
    const ended = item.stoppedAt ?? item.committedAt;
    if (ended !== undefined) {
      score.endDetection.push((ended - sent) / 1000);
      score.transcription.push((item.answeredAt - ended) / 1000);
    }
    score.deltasPerItem.push(item.deltaAt.length);
    score.itemSeconds.push(item.end - (item.start ?? item.end));
    // Someone speaks from speech_started until the utterance's last audio leaves the client; the VAD's
    // hangover after it is silence, and the completed text follows it.
    if (item.startedAt !== undefined) {
      const spoken = item.deltaAt.filter((at) => at >= item.startedAt! && at <= sent);
      score.deltaGaps.push(...gaps([item.startedAt, ...spoken, sent]));
      if (spoken.length > 0) score.firstDelta.push((spoken[0] - item.startedAt) / 1000);
      score.betweenDeltas.push(...gaps(spoken));
    }
  }
  const heard = heardWords(log);
  const { lost, extra } = matchWords(truth, heard);
  score.lost = lost;
  score.extra = extra;
  score.heardNearLost = lost.map((word) =>
    heard
      .filter((h) => h.end > word.start - 1.5 && h.start < word.end + 1.5)
      .map((h) => `${h.word}@${h.start.toFixed(2)}`)
      .join(" "),
  );
  return score;
}

/** When the append holding this sample (one past the item's last) left the client. */
function sentAtOfSample(log: ClientLog, endSample: number): number {
  const index = Math.min(log.sentAt.length - 1, Math.max(0, Math.ceil(endSample / APPEND_SAMPLES) - 1));
  return log.sentAt[index];
}

/** Seconds between consecutive moments (ms). */
function gaps(marks: readonly number[]): number[] {
  return marks.slice(1).map((at, index) => (at - marks[index]) / 1000);
}

interface HeardWord {
  word: string;
  start: number;
  end: number;
}

/** Words of completed events in session time; a transcript without word times spans its item. */
function heardWords(log: ClientLog): HeardWord[] {
  const heard: HeardWord[] = [];
  for (const item of log.items) {
    if (item.failed || item.transcript === undefined) continue;
    if (item.words?.length) heard.push(...item.words.map((w) => ({ word: w.word, start: w.start, end: w.end })));
    else {
      const span = { start: item.start ?? 0, end: item.end ?? log.audioSeconds };
      for (const word of item.transcript.split(/\s+/).filter(Boolean)) heard.push({ word, ...span });
    }
  }
  return heard;
}

export function normalizeWord(word: string): string {
  return word.toLowerCase().replace(/[^a-z0-9']/g, "");
}

function matchWords(truth: readonly TrueWord[], heard: HeardWord[]): { lost: TrueWord[]; extra: HeardWord[] } {
  const byText = new Map<string, HeardWord[]>();
  for (const word of heard) {
    const key = normalizeWord(word.word);
    byText.set(key, [...(byText.get(key) ?? []), word]);
  }
  const used = new Set<HeardWord>();
  const lost: TrueWord[] = [];
  for (const word of truth) {
    let best: HeardWord | undefined;
    for (const candidate of byText.get(normalizeWord(word.word)) ?? []) {
      if (used.has(candidate)) continue;
      if (candidate.end < word.start - WORD_TIME_TOLERANCE || candidate.start > word.end + WORD_TIME_TOLERANCE) continue;
      if (!best || Math.abs(candidate.start - word.start) < Math.abs(best.start - word.start)) best = candidate;
    }
    if (best) used.add(best);
    else lost.push(word);
  }
  return { lost, extra: heard.filter((word) => !used.has(word)) };
}
