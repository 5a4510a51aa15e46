/**
 * Builds synthetic conversations from the clip bank with exact truth: every word's start and end are
 * exactly where its clip's samples were placed. Deterministic for a given spec.
 */
import { loadClipBank, type ClipBank } from "./clip-bank.js";
import { planTurns, type ConversationStyle, type IsAbsent, type PlannedTurn } from "./conversation-plan.js";
import { SAMPLE_RATE } from "./ffmpeg.js";
import type { Recording, TrueWord } from "./recording.js";
import { mixSeed, seededRandom, type SeededRandom } from "./seeded-random.js";

export type { Recording, TrueWord } from "./recording.js";
export type { ConversationStyle } from "./conversation-plan.js";
export { writeWav, encodeRecording, makeVideoWithAudio, makeVideoWithoutAudio } from "./write-audio.js";
export type { AudioFormat, EncodeOptions } from "./write-audio.js";

export interface ConversationSpec {
  seed: number;
  /** 1-6 distinct voices; speaker Sn always uses the clip bank's n-th voice. */
  voices: number;
  /** Total length. With an explicit script it is a minimum: the script is never cut short. */
  durationSeconds: number;
  style?: ConversationStyle;
  /** Explicit script overriding style; speaker is 1-based (1 is "S1"). */
  turns?: Array<{ speaker: number; words: number }>;
  /** Pause between words of one turn, seconds [min, max]. */
  wordGapSeconds?: [number, number];
  /** Pause between turns, seconds [min, max]. */
  turnGapSeconds?: [number, number];
  /** A low uniform noise floor in dBFS (e.g. -60) so that pauses are not digital zero. */
  noiseDb?: number;
  /**
   * Speakers who are away for a while: `speaker` (1-based, like turns) says nothing in
   * [fromSeconds, toSeconds). While they are away the others carry on (turns are drawn among those
   * present; a scripted turn of an absent speaker is skipped, and a turn running into the absence is
   * cut short); when everyone is away the recording is silent until someone is back.
   */
  absences?: Array<{ speaker: number; fromSeconds: number; toSeconds: number }>;
  /**
   * The clip-bank voices speaking, by id (voices.ts), one per speaker: S1 is voiceIds[0]. Unset, speaker Sn
   * uses the bank's n-th voice. Recordings that share a voice share a person (see Recording.speakerVoices).
   */
  voiceIds?: readonly string[];
  /**
   * Languages by stretch: from `fromSeconds` on (until the next entry), the words are labelled `language`
   * (ISO 639-1); before the first entry they are English. Labels only: every clip is an English espeak clip,
   * and the ground-truth provider reports the label (test/provider/README.md, "Languages").
   */
  languages?: Array<{ fromSeconds: number; language: string }>;
}

const DEFAULT_WORD_GAP: [number, number] = [0.08, 0.25];
const DEFAULT_TURN_GAP: [number, number] = [0.4, 1.2];
const LEAD_IN_SECONDS: [number, number] = [0.3, 0.8];
/** Generated conversations end with a little silence, as recordings do. */
const TAIL_SECONDS = 0.5;

export function buildConversation(spec: ConversationSpec): Recording {
  validate(spec);
  const bank = loadClipBank();
  const random = seededRandom(mixSeed("conversation", spec.seed));
  const totalSamples = Math.round(spec.durationSeconds * SAMPLE_RATE);
  const away = new Absences(spec);
  const script = spec.turns
    ? spec.turns.map((turn) => ({ speaker: turn.speaker - 1, words: turn.words }))[Symbol.iterator]()
    : planTurns(spec.style ?? "meeting", spec.voices, random, away.none ? undefined : away.isAbsentNow);
  const voiceIds = spec.voiceIds ?? bank.voiceIds.slice(0, spec.voices);
  const placed = placeWords(script, bank, voiceIds, random, spec, spec.turns ? Infinity : totalSamples, away);
  const lastEnd = placed.length > 0 ? placed[placed.length - 1].at + placed[placed.length - 1].clip.length : 0;
  const length = Math.max(totalSamples, spec.turns ? lastEnd + Math.round(TAIL_SECONDS * SAMPLE_RATE) : 0);

  const samples = new Int16Array(length);
  for (const { at, clip } of placed) samples.set(clip, at);
  if (spec.noiseDb !== undefined) addNoiseFloor(samples, spec.noiseDb, mixSeed("noise", spec.seed));

  const speakers = Array.from({ length: spec.voices }, (_, index) => speakerName(index));
  return {
    id: `conv-s${spec.seed}-v${spec.voices}-${spec.turns ? "script" : (spec.style ?? "meeting")}-${spec.durationSeconds}s${away.idSuffix}${spec.voiceIds ? `-${spec.voiceIds.join("+")}` : ""}${languagesSuffix(spec)}`,
    sampleRate: SAMPLE_RATE,
    samples,
    words: placed.map(({ word, at, clip, speaker }): TrueWord => ({
      word,
      start: at / SAMPLE_RATE,
      end: (at + clip.length) / SAMPLE_RATE,
      speaker: speakerName(speaker),
      ...languageAt(spec, at / SAMPLE_RATE),
    })),
    speakers,
    duration: length / SAMPLE_RATE,
    speakerVoices: [...voiceIds],
  };
}

/**
 * A voice clip for enrollment: one clip-bank voice alone, saying its own random words (a recording of its
 * own, not cut from any conversation), `seconds` long. The same voice in a conversation is the same person
 * to the ground-truth provider's diarizer.
 */
export function buildVoiceClip(voiceId: string, seconds: number, seed = 1): Recording {
  const clip = buildConversation({ seed: mixSeed(`voice-clip-${voiceId}`, seed), voices: 1, durationSeconds: seconds, voiceIds: [voiceId], style: "lecture" });
  return { ...clip, id: `voice-${voiceId}-s${seed}-${seconds}s` };
}

/** Digital silence (or a noise floor) of the given length, with no words: for "nothing to hear" tests. */
export function buildSilence(seconds: number, noiseDb?: number): Recording {
  const samples = new Int16Array(Math.round(seconds * SAMPLE_RATE));
  if (noiseDb !== undefined) addNoiseFloor(samples, noiseDb, mixSeed("silence-noise", seconds));
  return { id: `silence-${seconds}s`, sampleRate: SAMPLE_RATE, samples, words: [], speakers: [], duration: seconds };
}

/** The language label of a word starting at `seconds` (nothing for English before any entry). */
function languageAt(spec: ConversationSpec, seconds: number): { language?: string } {
  let language: string | undefined;
  for (const stretch of spec.languages ?? []) if (seconds >= stretch.fromSeconds) language = stretch.language;
  return language === undefined ? {} : { language };
}

/** Recordings are known by id: one with language labels must not replace the same spec without them. */
function languagesSuffix(spec: ConversationSpec): string {
  return spec.languages?.length ? `-lang${spec.languages.map((s) => `${s.language}@${s.fromSeconds}`).join("+")}` : "";
}

export function speakerName(index: number): string {
  return `S${index + 1}`;
}

interface PlacedWord {
  word: string;
  speaker: number;
  at: number;
  clip: Int16Array;
}

function placeWords(
  script: Iterator<PlannedTurn>,
  bank: ClipBank,
  voiceIds: readonly string[],
  random: SeededRandom,
  spec: ConversationSpec,
  totalSamples: number,
  away: Absences,
): PlacedWord[] {
  const wordGap = spec.wordGapSeconds ?? DEFAULT_WORD_GAP;
  const turnGap = spec.turnGapSeconds ?? DEFAULT_TURN_GAP;
  const usableEnd = totalSamples - Math.round(TAIL_SECONDS * SAMPLE_RATE);
  const placed: PlacedWord[] = [];
  let cursor = toSamples(random.between(...LEAD_IN_SECONDS));
  let previousWord = "";
  for (;;) {
    if (!away.none) {
      cursor = away.whenSomeoneIsBack(cursor);
      away.now = cursor;
    }
    const turn = script.next();
    if (turn.done) break;
    const { speaker, words } = turn.value;
    if (away.isAway(speaker, cursor, cursor + 1)) continue;
    if (placed.length > 0) cursor += toSamples(random.between(...turnGap));
    for (let index = 0; index < words; index++) {
      if (index > 0) cursor += toSamples(random.between(...wordGap));
      let word = random.pick(bank.words);
      // The same word twice in a row would be a legitimate but confusing echo; avoid it.
      while (word === previousWord) word = random.pick(bank.words);
      const clip = bank.clip(voiceIds[speaker], word);
      if (cursor + clip.length > usableEnd) return placed;
      // A turn running into the speaker's absence stops there (and the time goes on to it, so that a
      // turn cut before its first word cannot be drawn again at the same moment).
      const leaves = away.leavesDuring(speaker, cursor, cursor + clip.length);
      if (leaves !== undefined) {
        cursor = Math.max(cursor, leaves);
        break;
      }
      placed.push({ word, speaker, at: cursor, clip });
      cursor += clip.length;
      previousWord = word;
    }
  }
  return placed;
}

/** The spec's absences in samples, with 0-based speakers, and the builder's clock for the planner. */
class Absences {
  readonly none: boolean;
  readonly idSuffix: string;
  /** The builder's time (samples) when it asks for the next turn. */
  now = 0;
  private readonly ranges: Array<{ speaker: number; from: number; to: number }>;
  private readonly voices: number;

  constructor(spec: ConversationSpec) {
    const absences = spec.absences ?? [];
    this.none = absences.length === 0;
    this.voices = spec.voices;
    this.ranges = absences.map((absence) => ({
      speaker: absence.speaker - 1,
      from: toSamples(absence.fromSeconds),
      to: toSamples(absence.toSeconds),
    }));
    // Recordings are known by id: one with absences must not replace the same spec without them.
    this.idSuffix = this.none
      ? ""
      : `-away${absences.map((absence) => `${absence.speaker}@${absence.fromSeconds}-${absence.toSeconds}`).join("+")}`;
  }

  readonly isAbsentNow: IsAbsent = (speaker) => this.isAway(speaker, this.now, this.now + 1);

  /** Whether the speaker is away at any moment of samples [from, to). */
  isAway(speaker: number, from: number, to: number): boolean {
    return this.leavesDuring(speaker, from, to) !== undefined;
  }

  /** When the speaker's first absence overlapping samples [from, to) begins, if one does. */
  leavesDuring(speaker: number, from: number, to: number): number | undefined {
    let leaves: number | undefined;
    for (const range of this.ranges) {
      if (range.speaker === speaker && from < range.to && to > range.from) leaves = Math.min(leaves ?? range.from, range.from);
    }
    return leaves;
  }

  /** The cursor itself, or, when every speaker is away then, the first moment one of them is back. */
  whenSomeoneIsBack(cursor: number): number {
    let at = cursor;
    for (;;) {
      const backAt = Array.from({ length: this.voices }, (_, speaker) => this.backAt(speaker, at));
      if (backAt.some((time) => time === at)) return at;
      at = Math.min(...backAt);
    }
  }

  /** The first moment from `at` on when the speaker is not away. */
  private backAt(speaker: number, at: number): number {
    let time = at;
    for (let moved = true; moved; ) {
      moved = false;
      for (const range of this.ranges) {
        if (range.speaker === speaker && time >= range.from && time < range.to) {
          time = range.to;
          moved = true;
        }
      }
    }
    return time;
  }
}

function addNoiseFloor(samples: Int16Array, noiseDb: number, seed: number): void {
  const random = seededRandom(seed);
  // Uniform noise in [-a, a] has an RMS of a / sqrt(3).
  const amplitude = 32768 * 10 ** (noiseDb / 20) * Math.sqrt(3);
  for (let i = 0; i < samples.length; i++) {
    const value = samples[i] + Math.round((random.next() * 2 - 1) * amplitude);
    samples[i] = value > 32767 ? 32767 : value < -32768 ? -32768 : value;
  }
}

function toSamples(seconds: number): number {
  return Math.round(seconds * SAMPLE_RATE);
}

function validate(spec: ConversationSpec): void {
  if (!Number.isInteger(spec.voices) || spec.voices < 1 || spec.voices > 6) throw new Error("voices must be 1-6");
  if (!(spec.durationSeconds >= 0)) throw new Error("durationSeconds must be >= 0");
  for (const turn of spec.turns ?? []) {
    if (turn.speaker < 1 || turn.speaker > spec.voices) throw new Error(`turn speaker ${turn.speaker} is not 1..${spec.voices}`);
  }
  if (spec.voiceIds && spec.voiceIds.length !== spec.voices) throw new Error(`voiceIds must name ${spec.voices} voices`);
  for (const stretch of spec.languages ?? []) {
    if (!/^[a-z]{2}$/.test(stretch.language)) throw new Error(`language '${stretch.language}' is not an ISO 639-1 code`);
    if (!(stretch.fromSeconds >= 0)) throw new Error(`language stretch from ${stretch.fromSeconds} is not a time`);
  }
  for (const absence of spec.absences ?? []) {
    if (!Number.isInteger(absence.speaker) || absence.speaker < 1 || absence.speaker > spec.voices) {
      throw new Error(`absence speaker ${absence.speaker} is not 1..${spec.voices}`);
    }
    if (!(absence.fromSeconds >= 0 && absence.toSeconds > absence.fromSeconds && Number.isFinite(absence.toSeconds))) {
      throw new Error(`absence [${absence.fromSeconds}, ${absence.toSeconds}) is not a range of seconds`);
    }
  }
}
