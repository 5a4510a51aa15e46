import type { SegmentResult, TextSpan } from "../types.js";
import { normalizeWord, splitWords } from "./normalize-word.js";
import { roundMicro } from "./round-time.js";

/** A word of one segment, moved to global time, as the stitcher handles it. */
export interface PlacedWord {
  word: string;
  /** normalizeWord(word), for comparing two hearings. */
  norm: string;
  start: number;
  end: number;
  /** The provider's label, local to this segment; null when it did not diarize. */
  localSpeaker: string | null;
  /** SegmentResult.index of the segment that heard it. */
  index: number;
  /** False when the times are estimated from a text-only answer. */
  timed: boolean;
}

/**
 * The words of one result in global time. Text-only answers (words === null)
 * get estimated times, spread over each span in proportion to word length,
 * which is close enough to place them but not to compare them by time.
 */
export function placeWords(result: SegmentResult): PlacedWord[] {
  const offset = result.segment.start;
  if (result.words !== null) {
    return result.words
      .filter((w) => w.word.trim().length > 0)
      .map((w) => ({
        word: w.word.trim(),
        norm: normalizeWord(w.word),
        start: roundMicro(w.start + offset),
        end: roundMicro(Math.max(w.end, w.start) + offset),
        localSpeaker: w.speaker ?? spanSpeakerAt(result.spans, w.start),
        index: result.index,
        timed: true,
      }));
  }
  return textSpans(result).flatMap((span) => estimateSpanWords(span, offset, result.index));
}

function textSpans(result: SegmentResult): TextSpan[] {
  const spans = result.spans.filter((s) => s.text.trim().length > 0);
  if (spans.length > 0) return spans;
  if (result.text.trim().length === 0) return [];
  return [{ start: 0, end: result.segment.end - result.segment.start, text: result.text }];
}

function estimateSpanWords(span: TextSpan, offset: number, index: number): PlacedWord[] {
  const words = splitWords(span.text);
  // Longer words take longer to say; +1 stands for the gap after each word.
  const weights = words.map((w) => w.length + 1);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const length = Math.max(0, span.end - span.start);
  let at = span.start;
  return words.map((word, i) => {
    const duration = (length * weights[i]) / totalWeight;
    const placed: PlacedWord = {
      word,
      norm: normalizeWord(word),
      start: roundMicro(at + offset),
      end: roundMicro(at + duration + offset),
      localSpeaker: span.speaker ?? null,
      index,
      timed: false,
    };
    at += duration;
    return placed;
  });
}

/** Some providers label speakers on segments only; a word inherits its span's label. */
function spanSpeakerAt(spans: TextSpan[], time: number): string | null {
  const span = spans.find((s) => s.speaker !== undefined && time >= s.start && time < s.end);
  return span?.speaker ?? null;
}
