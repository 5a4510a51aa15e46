import { ibanValid, luhnValid } from "./checksums.js";

/**
 * Finds personal data in stitched words, for `redact=pii`. Pure and word-based: a span is a run of
 * consecutive words (one speaker, no long pause) that together form one item, so a number the provider split
 * ("4111 1111 1111 1111", "four one one one ...") is one span. What is caught:
 * - email: a word shaped like an address (`name@domain.tld`);
 * - card: 13-19 digits passing the Luhn check;
 * - iban: a country code, two check digits and up to 30 letters and digits, passing the mod-97 check;
 * - phone: 7-15 digits written as a phone number (a leading `+`, a `555-0123` shape, or 10 digits or more),
 *   or 7 digits or more spoken one by one;
 * - number: any other run of 9 digits or more (account, social-security, order numbers), written in groups of
 *   three or more or spoken digit by digit.
 * What is not: amounts (`$`, `€`, `£`, a currency word after, thousands grouped as `1 250 000`), times
 * (`10:30`), dates (`2024-05-02`, `5/2/2024`), years (`2024`, or a list of years), decimals, percentages, lists
 * of small numbers ("15, 20, 30, 40, 50").
 * Numbers spoken as words other than single digits ("twenty four") and spoken e-mail addresses ("ada at
 * example dot com") are not caught.
 */
export type PiiKind = "email" | "card" | "iban" | "phone" | "number";

export interface PiiSpan {
  /** Index of the first word. */
  from: number;
  /** Index after the last word. */
  to: number;
  kind: PiiKind;
}

export interface PiiWord {
  word: string;
  start: number;
  end: number;
  speaker_id: string | null;
}

/** A pause longer than this ends a run: two numbers said apart are two numbers. */
const MAX_GAP_SECONDS = 1.5;

const SPOKEN_DIGITS: Record<string, string> = {
  zero: "0", oh: "0", one: "1", two: "2", three: "3", four: "4", five: "5", six: "6", seven: "7", eight: "8", nine: "9",
};
const AMOUNT_WORDS = new Set([
  "dollar", "dollars", "euro", "euros", "pound", "pounds", "cent", "cents", "percent", "usd", "eur", "gbp", "yen",
  "bucks", "k", "million", "billion", "thousand", "people", "users", "units", "items", "kg", "km", "miles",
]);
const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;

/** A word without the punctuation around it (a leading `+` or `(` of a phone number stays). */
function core(word: string): string {
  return word.replace(/^[^\p{L}\p{N}+(]+/u, "").replace(/[^\p{L}\p{N})]+$/u, "");
}

/** The digits a word stands for in a number run, or undefined when it cannot be part of one. */
function digitsOf(word: string): { digits: string; spoken: boolean; plus: boolean; shape: string } | undefined {
  const c = core(word);
  const spoken = SPOKEN_DIGITS[c.toLowerCase()];
  if (spoken !== undefined) return { digits: spoken, spoken: true, plus: false, shape: "d" };
  // Digits with phone separators only: a comma, colon or slash inside ("1,250", "10:30", "5/2"), a currency sign
  // or a percent makes it something else. Punctuation after it ("20,") is the sentence's.
  if (!/^\+?\(?\d[\d().-]*$/.test(c)) return undefined;
  if (/[$€£%]/.test(word)) return undefined;
  // A date (2024-05-02) or a decimal (3.75) is not a piece of a number.
  if (/^\d{4}-\d{1,2}-\d{1,2}$/.test(c) || /^\d+\.\d+$/.test(c)) return undefined;
  const digits = c.replace(/\D/g, "");
  return { digits, spoken: false, plus: c.startsWith("+"), shape: c.replace(/\d+/g, (m) => `d${m.length}`) };
}

export function detectPii(words: readonly PiiWord[]): PiiSpan[] {
  const spans: PiiSpan[] = [];
  const used = new Array<boolean>(words.length).fill(false);
  const joins = (a: number, b: number) =>
    words[a].speaker_id === words[b].speaker_id && words[b].start - words[a].end <= MAX_GAP_SECONDS;

  // E-mail addresses: one word each.
  words.forEach((w, i) => {
    if (EMAIL.test(core(w.word))) {
      spans.push({ from: i, to: i + 1, kind: "email" });
      used[i] = true;
    }
  });

  // IBANs: a word starting with a country code and check digits, and the groups after it.
  for (let i = 0; i < words.length; i++) {
    if (used[i] || !/^[A-Za-z]{2}\d{2}[A-Za-z0-9]*$/.test(core(words[i].word))) continue;
    let compact = core(words[i].word).toUpperCase();
    let best = ibanValid(compact) ? i + 1 : -1;
    for (let j = i + 1; j < words.length && compact.length < 34 && !used[j] && joins(j - 1, j); j++) {
      const group = core(words[j].word);
      if (!/^[A-Za-z0-9]{1,5}$/.test(group)) break;
      compact += group.toUpperCase();
      if (ibanValid(compact)) best = j + 1;
    }
    if (best > 0) {
      spans.push({ from: i, to: best, kind: "iban" });
      for (let k = i; k < best; k++) used[k] = true;
      i = best - 1;
    }
  }

  // Runs of digits: cards, phones, other long numbers.
  for (let i = 0; i < words.length; ) {
    const first = used[i] ? undefined : digitsOf(words[i].word);
    if (!first) {
      i++;
      continue;
    }
    const parts = [first];
    let j = i + 1;
    for (; j < words.length && !used[j] && joins(j - 1, j); j++) {
      const next = digitsOf(words[j].word);
      // Nobody says a number half in written groups, half digit by digit: "5559 two" is a number, then a word.
      if (!next || next.spoken !== first.spoken) break;
      parts.push(next);
    }
    const kind = classifyRun(parts, words[i - 1]?.word, words[j]?.word);
    if (kind) {
      spans.push({ from: i, to: j, kind });
      for (let k = i; k < j; k++) used[k] = true;
    }
    i = j;
  }
  return spans.sort((a, b) => a.from - b.from);
}

function classifyRun(
  parts: ReadonlyArray<{ digits: string; spoken: boolean; plus: boolean; shape: string }>,
  before: string | undefined,
  after: string | undefined,
): PiiKind | undefined {
  const digits = parts.map((p) => p.digits).join("");
  const n = digits.length;
  if (n < 7) return undefined;
  // Amounts: a currency sign before, a unit after, or thousands grouped ("1 250 000").
  if (before !== undefined && /[$€£]$/.test(before)) return undefined;
  if (after !== undefined && AMOUNT_WORDS.has(core(after).toLowerCase())) return undefined;
  const written = parts.filter((p) => !p.spoken);
  if (written.length === parts.length && parts.length > 1 && parts[0].digits.length <= 3 && parts.slice(1).every((p) => p.shape === "d3")) {
    return undefined;
  }
  // A list of years (2019 2020 2021) is not a number.
  if (written.length === parts.length && parts.every((p) => /^(19|20)\d\d$/.test(p.digits))) return undefined;
  if (n >= 13 && n <= 19 && luhnValid(digits)) return "card";
  if (n <= 15) {
    const spoken = parts.every((p) => p.spoken);
    const plus = parts[0].plus;
    const phoneShape = parts.some((p) => /^\(?d3\)?[-.]d3[-.]d4$|^d3[-.]d4$/.test(p.shape)) || (parts.length >= 2 && parts.at(-1)!.digits.length === 4);
    // Ten digits or more in groups of three or more (a list of small numbers, "15, 20, 30, 40, 50", is not one).
    const long = n >= 10 && parts.every((p) => p.digits.length >= 3);
    if (spoken || plus || long || phoneShape) return "phone";
  }
  if (n >= 9 && parts.every((p) => p.spoken || p.digits.length >= 3)) return "number";
  return undefined;
}
