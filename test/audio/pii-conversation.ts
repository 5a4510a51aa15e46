/**
 * Generated calls with known personal data, for the redaction tests and benchmark (bench/redaction.ts).
 *
 * The clip bank (espeak-ng words, vocabulary.ts) has no digits but "two" and "four", no letters and no
 * addresses, and new clips would need espeak-ng to regenerate every voice's pack. So personal data is
 * *composed*: a stretch of a speaker's words keeps its audio (real clips, in a real turn, with its real
 * pauses) and takes the text of the item ("4111", "1111", ... or "four", "one", ...), word for word. The
 * ground-truth provider hears a recording's true words (test/provider/README.md), so it "hears" the item
 * exactly as it is written here, split into words the way a provider splits it; what is measured is the
 * pipeline's part: finding the items in stitched words and silencing their time spans. The same trick puts
 * vocabulary near misses ("kubernetis") and filter words in a call.
 */
import { buildConversation, type Recording } from "./conversation.js";
import type { TrueWord } from "./recording.js";

export type PiiItemKind = "email" | "card" | "iban" | "phone" | "number";

export interface PiiItem {
  kind: PiiItemKind;
  /** The item as a provider writes it, one entry per word. */
  words: string[];
}

const spoken = (text: string) => text.split(" ");

/** Personal data spoken in the generated calls: written forms and digit-by-digit speech. */
export const PII_ITEMS: readonly PiiItem[] = [
  { kind: "card", words: ["4111", "1111", "1111", "1111"] },
  { kind: "card", words: spoken("five five zero zero zero zero five five five five five five five five five nine") },
  { kind: "phone", words: ["+44", "20", "7946", "0958"] },
  { kind: "phone", words: spoken("five five five zero one two three") },
  { kind: "phone", words: ["(202)", "555-0143"] },
  { kind: "email", words: ["ada.lovelace@example.com"] },
  { kind: "iban", words: ["GB82", "WEST", "1234", "5698", "7654", "32"] },
  { kind: "iban", words: ["DE89", "3704", "0044", "0532", "0130", "00"] },
  { kind: "number", words: ["123-45-6789"] },
  { kind: "card", words: ["5500", "0055", "5555", "5559"] },
];

/** Numbers that are not personal data, said in the same calls: redacting them would be a false positive. */
export const NON_PII_ITEMS: readonly string[][] = [
  ["2024"], ["10:30"], ["$1,250"], ["3.75"], ["2019", "2020"], ["12.5%"], ["1", "250", "000", "dollars"], ["2024-05-02"], ["9", "30"],
];

export interface PlacedItem {
  kind: PiiItemKind | "other" | "term";
  /** Indices into the recording's words: [from, to). */
  from: number;
  to: number;
  start: number;
  end: number;
  words: string[];
}

export interface PiiCall {
  recording: Recording;
  pii: PlacedItem[];
  /** The non-personal numbers placed (false-positive bait). */
  others: PlacedItem[];
  /** Words written as near misses of `terms` or as filter words, by index. */
  extras: PlacedItem[];
}

export interface PiiCallSpec {
  seed: number;
  voices?: number;
  /** How many times the PII list is gone through (each pass places every item once). */
  passes?: number;
  /** Extra words to place, e.g. near misses of vocabulary terms ("kubernetis") or filter words ("damn"). */
  extras?: string[][];
}

/**
 * A scripted call (long turns, so an item fits inside one turn) whose words are relabelled: every PII item,
 * `passes` times, every non-PII number, and the extras, each over consecutive words of one turn, apart.
 */
export function buildPiiCall(spec: PiiCallSpec): PiiCall {
  const voices = spec.voices ?? 2;
  const passes = spec.passes ?? 1;
  const items: Array<{ kind: PlacedItem["kind"]; words: string[] }> = [];
  for (let p = 0; p < passes; p++) {
    for (const item of PII_ITEMS) items.push(item);
    for (const other of NON_PII_ITEMS) items.push({ kind: "other", words: other });
  }
  for (const extra of spec.extras ?? []) items.push({ kind: "term", words: extra });
  // Interleave so that the kinds are spread over the call.
  const order = items.map((item, i) => ({ item, key: (i * 7919 + spec.seed * 104729) % items.length })).sort((a, b) => a.key - b.key).map((x) => x.item);
  const wordsNeeded = order.reduce((sum, item) => sum + item.words.length + 6, 0);
  const turns = Array.from({ length: Math.ceil(wordsNeeded / 22) + 1 }, (_, i) => ({ speaker: (i % voices) + 1, words: 26 }));
  const base = buildConversation({ seed: spec.seed, voices, durationSeconds: 0, turns });
  const words: TrueWord[] = base.words.map((w) => ({ ...w }));
  const pii: PlacedItem[] = [];
  const others: PlacedItem[] = [];
  const extras: PlacedItem[] = [];
  let at = 1;
  for (const item of order) {
    // The next stretch of consecutive words of one speaker long enough for the item, after a gap of 3 words.
    let from = at;
    while (from + item.words.length <= words.length && !oneTurn(words, from, from + item.words.length)) from++;
    if (from + item.words.length > words.length) break;
    const to = from + item.words.length;
    item.words.forEach((text, k) => (words[from + k].word = text));
    const placed: PlacedItem = { kind: item.kind, from, to, start: words[from].start, end: words[to - 1].end, words: item.words };
    (item.kind === "other" ? others : item.kind === "term" ? extras : pii).push(placed);
    at = to + 3;
  }
  const recording: Recording = { ...base, id: `${base.id}-pii${passes}-x${(spec.extras ?? []).length}`, words };
  return { recording, pii, others, extras };
}

/** Words [from, to) are said by one speaker without a pause longer than within a turn. */
function oneTurn(words: readonly TrueWord[], from: number, to: number): boolean {
  for (let i = from + 1; i < to; i++) {
    if (words[i].speaker !== words[from].speaker || words[i].start - words[i - 1].end > 0.35) return false;
  }
  // The item must not run on into the words around it as one number.
  return true;
}

export interface RedactionScore {
  piiItems: number;
  piiCaught: number;
  otherWords: number;
  otherWordsTouched: number;
  /** Non-PII numbers (bait) placed / redacted. */
  baitItems: number;
  baitTouched: number;
}

/**
 * Scores a redacted transcript's words against the call: an item is caught when `[PII]` words cover its whole
 * time span (±50 ms); a true word not in an item is touched when its middle falls inside a `[PII]` word.
 */
export function scoreRedaction(call: PiiCall, redacted: ReadonlyArray<{ word: string; start: number; end: number }>): RedactionScore {
  const spans = redacted.filter((w) => w.word.startsWith("[PII]")).map((w) => [w.start - 0.05, w.end + 0.05] as const);
  const covered = (a: number, b: number) => spans.some(([s, e]) => s <= a && b <= e);
  const touches = (t: number) => spans.some(([s, e]) => s <= t && t <= e);
  const inPii = new Set<number>();
  for (const item of call.pii) for (let i = item.from; i < item.to; i++) inPii.add(i);
  let otherWords = 0;
  let otherWordsTouched = 0;
  call.recording.words.forEach((w, i) => {
    if (inPii.has(i)) return;
    otherWords++;
    if (touches((w.start + w.end) / 2)) otherWordsTouched++;
  });
  return {
    piiItems: call.pii.length,
    piiCaught: call.pii.filter((item) => covered(item.start, item.end)).length,
    otherWords,
    otherWordsTouched,
    baitItems: call.others.length,
    baitTouched: call.others.filter((item) => touches((item.start + item.end) / 2)).length,
  };
}
