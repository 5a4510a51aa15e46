/**
 * The transcript as the viewer page carries it: built once on the server (or by the stitcher) from the
 * `verbose_json` output, in columns, so a 4-hour transcript (~40k words) is about 1 MB of JSON instead of
 * 3 MB of word objects, and the page's client reads it into typed arrays for binary search.
 */

/** The `verbose_json` output as the viewer reads it (shared/domain/formats/json.ts), with the names it may carry. */
export interface ViewerTranscript {
  text?: string;
  language?: string | null;
  duration?: number;
  words?: Array<{ word: string; start: number; end: number; speaker_id?: string | null }>;
  segments?: Array<{ id?: number; start: number; end: number; text: string; speaker_id?: string | null }>;
  speakers?: string[];
  /** label -> name, for the speakers someone named. */
  speaker_names?: Record<string, string>;
}

export interface PageModel {
  jobId: string;
  /** The recording's file name. */
  title: string;
  duration: number;
  language: string | null;
  /** Lane order: the transcript's speaker order. */
  speakers: Array<{ id: string; name: string | null }>;
  /** Column per field; times in milliseconds. */
  words: { text: string[]; start: number[]; end: number[] };
  /**
   * Speaker turns (the transcript's segments): turn t is words [first[t], first[t + 1]) said by
   * speakers[speaker[t]], or by nobody named when -1 (not diarized). `first` has one more entry than `speaker`.
   */
  turns: { speaker: number[]; first: number[] };
  /** Some words had no times of their own (a text-only model): spread over their segment's span. */
  approximate: boolean;
}

export interface PageModelInput {
  jobId: string;
  title: string;
  transcript: ViewerTranscript;
  /** Names from the job record, newer than the ones the transcript file carries. */
  speakerNames?: Record<string, string>;
}

const ms = (seconds: number) => Math.max(0, Math.round(seconds * 1000));

/**
 * Longer turns are cut into turns of this many words, so the page's windowing (whole turns per chunk) stays
 * bounded whatever the input: the pipeline's utterances end within 30 s, but a transcript without segments,
 * or another tool's, may hold one turn for an hour.
 */
export const MAX_TURN_WORDS = 300;

export function buildPageModel(input: PageModelInput): PageModel {
  const { transcript } = input;
  const names: Record<string, string> = { ...(transcript.speaker_names ?? {}), ...(input.speakerNames ?? {}) };
  const speakers: PageModel["speakers"] = [];
  const lane = new Map<string, number>();
  const laneOf = (id: string | null | undefined): number => {
    if (!id) return -1;
    let index = lane.get(id);
    if (index === undefined) {
      index = speakers.length;
      lane.set(id, index);
      const name = names[id]?.trim();
      speakers.push({ id, name: name ? name : null });
    }
    return index;
  };
  for (const id of transcript.speakers ?? []) laneOf(id);

  const words = (transcript.words ?? []).filter((w) => w.word.trim().length > 0).sort((a, b) => a.start - b.start);
  const segments = [...(transcript.segments ?? [])].sort((a, b) => a.start - b.start);
  const model: PageModel = {
    jobId: input.jobId,
    title: input.title,
    duration: transcript.duration ?? 0,
    language: transcript.language ?? null,
    speakers,
    words: { text: [], start: [], end: [] },
    turns: { speaker: [], first: [] },
    approximate: false,
  };
  const push = (text: string, start: number, end: number) => {
    model.words.text.push(text);
    model.words.start.push(ms(start));
    model.words.end.push(ms(Math.max(start, end)));
  };
  const startTurn = (speaker: number) => {
    model.turns.speaker.push(speaker);
    model.turns.first.push(model.words.text.length);
  };
  /** Adds a word to the open turn, first opening a new one of the same speaker when that turn is full. */
  const pushInTurn = (text: string, start: number, end: number) => {
    const turn = model.turns.first.length - 1;
    if (model.words.text.length - model.turns.first[turn] >= MAX_TURN_WORDS) startTurn(model.turns.speaker[turn]);
    push(text, start, end);
  };

  if (segments.length === 0 && words.length > 0) {
    // Words without utterances: one turn per run of one speaker.
    let previous: string | null | undefined;
    for (const w of words) {
      if (model.words.text.length === 0 || (w.speaker_id ?? null) !== previous) startTurn(laneOf(w.speaker_id));
      previous = w.speaker_id ?? null;
      pushInTurn(w.word.trim(), w.start, w.end);
    }
  } else {
    // Each segment (an utterance: one speaker's turn) takes the words that start before the next one does.
    let next = 0;
    for (const [index, segment] of segments.entries()) {
      const boundary = index + 1 < segments.length ? segments[index + 1].start : Infinity;
      let own = next;
      while (own < words.length && words[own].start < boundary) own++;
      const spread = own === next ? spreadText(segment.text, segment.start, segment.end) : [];
      if (own === next && spread.length === 0) continue;
      startTurn(laneOf(segment.speaker_id));
      for (; next < own; next++) pushInTurn(words[next].word.trim(), words[next].start, words[next].end);
      if (spread.length) model.approximate = true;
      for (const w of spread) pushInTurn(w.text, w.start, w.end);
    }
  }
  model.turns.first.push(model.words.text.length);
  const lastEnd = model.words.end.length ? model.words.end[model.words.end.length - 1] / 1000 : 0;
  model.duration = Math.max(model.duration, lastEnd);
  return model;
}

/** A segment's text as words with times spread over its span by length: for segments without word times. */
function spreadText(text: string, start: number, end: number): Array<{ text: string; start: number; end: number }> {
  const tokens = text.split(/\s+/).filter(Boolean);
  const chars = tokens.reduce((sum, t) => sum + t.length + 1, 0);
  const span = Math.max(0, end - start);
  let at = start;
  return tokens.map((token) => {
    const length = (span * (token.length + 1)) / chars;
    const word = { text: token, start: at, end: at + length };
    at += length;
    return word;
  });
}
