/** Broken-but-200 answers real providers have been seen to give; the client must notice each. */
import type { MalformedKind } from "./options.js";
import type { VerboseBody } from "./transcript-body.js";

/** Returns the raw body text to send. */
export function malform(kind: MalformedKind, body: VerboseBody | { text: string }): string {
  if (kind === "invalid-json") {
    const json = JSON.stringify(body);
    return json.slice(0, Math.max(1, Math.floor(json.length / 2)));
  }
  if (!("segments" in body)) return JSON.stringify(kind === "empty-text" ? { text: "" } : body);
  const broken: VerboseBody = structuredClone(body);
  // Corrupt the finest timing the answer has.
  const timed: Array<{ start: number; end: number }> = broken.words?.length ? broken.words : broken.segments;
  if (kind === "empty-text") {
    broken.text = "";
    broken.segments = [];
    if (broken.words) broken.words = [];
    if (broken.speaker_segments) broken.speaker_segments = [];
  } else if (kind === "missing-words") {
    delete broken.words;
    delete broken.speaker_segments;
    broken.segments = [];
  } else if (kind === "times-outside" && timed.length > 0) {
    const last = timed[timed.length - 1];
    last.start = broken.duration + 4;
    last.end = broken.duration + 5;
  } else if (kind === "negative-times" && timed.length > 0) {
    timed[0].start = -0.75;
  } else if (kind === "reversed-times" && timed.length > 0) {
    const middle = timed[Math.floor(timed.length / 2)];
    [middle.start, middle.end] = [middle.end + 0.2, middle.start];
  }
  return JSON.stringify(broken);
}
