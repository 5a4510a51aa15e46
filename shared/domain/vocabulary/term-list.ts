import { z } from "zod";
import { VOICE_NAME } from "../options/options.js";

/**
 * Registered word lists (issue 17): a custom vocabulary (terms the provider should hear, and the stitched
 * words are corrected towards) or a vocabulary filter (words to mask, remove or tag). Registered once from a
 * text file, one term or phrase per line (`vocabularies/<name>.txt` or `vocabulary-filters/<name>.txt` in the
 * input bucket, or `stt vocabulary add`), stored as an item in the jobs table, like enrolled voices.
 */

export const LIST_KINDS = ["vocabulary", "filter"] as const;
export type ListKind = (typeof LIST_KINDS)[number];

/** Where list files live in the input bucket: an object under one registers a list instead of starting a job. */
export const LIST_PREFIXES: Record<ListKind, string> = {
  vocabulary: "vocabularies/",
  filter: "vocabulary-filters/",
};

/** A list's name: what the key and `vocabulary=<name>` / `filter=<name>` carry (the voice-name rule). */
export const LIST_NAME = VOICE_NAME;

/**
 * Limits of one list. A vocabulary's terms go into every segment's prompt (only the first ~40 fit in
 * Whisper's 224 tokens) and each is compared with every window of stitched words, so a list is kept to what
 * a person curates by hand; a filter matches words one by one, so it may hold more, but each is one word.
 */
export const LIST_LIMITS: Record<ListKind, { maxTerms: number; maxChars: number; maxWords: number }> = {
  vocabulary: { maxTerms: 500, maxChars: 64, maxWords: 4 },
  filter: { maxTerms: 2000, maxChars: 40, maxWords: 1 },
};
/** A list file larger than this is refused before it is read as text. */
export const MAX_LIST_FILE_BYTES = 128 * 1024;

export const LIST_STATUSES = ["READY", "REFUSED"] as const;

/** The list item: pk = LIST#<kind>#<name>, sk = LIST, in the jobs table. */
export const listRecordSchema = z.object({
  kind: z.enum(LIST_KINDS),
  name: z.string().regex(LIST_NAME),
  status: z.enum(LIST_STATUSES),
  /** Why it was refused (a line too long, too many terms...): names the line number, never the text. */
  reason: z.string().optional(),
  /** The terms, in the file's order, each once (compared without case). Empty when refused. */
  terms: z.array(z.string()),
  source: z.object({
    bucket: z.string(),
    key: z.string(),
    versionId: z.string().optional(),
    etag: z.string().optional(),
  }),
  registeredAt: z.string(),
});
export type ListRecord = z.infer<typeof listRecordSchema>;

/** One object version is one registration: a redelivered event finds the item it would write. */
export function listSourceTag(source: ListRecord["source"]): string {
  return `${source.bucket}/${source.key}#${source.versionId ?? ""}#${source.etag ?? ""}`;
}

export function listKindOfKey(key: string): ListKind | undefined {
  return LIST_KINDS.find((kind) => key.startsWith(LIST_PREFIXES[kind]));
}

/**
 * The list a key registers (`vocabularies/acme.txt` -> vocabulary acme), or why it cannot: the name is the
 * file name without its extension, directly under the prefix.
 */
export function listOfKey(key: string): { kind: ListKind; name: string } | { invalid: string } | undefined {
  const kind = listKindOfKey(key);
  if (!kind) return undefined;
  const rest = key.slice(LIST_PREFIXES[kind].length);
  if (rest.includes("/")) return { invalid: `a list file must be directly under ${LIST_PREFIXES[kind]} (${LIST_PREFIXES[kind]}<name>.txt)` };
  const dot = rest.lastIndexOf(".");
  const name = dot > 0 ? rest.slice(0, dot) : rest;
  if (!LIST_NAME.test(name)) return { invalid: "the list name must be 1-40 letters, digits, '-', '_' or '.', starting with a letter or digit" };
  return { kind, name };
}

/** The key a list file is registered under. */
export function listKey(kind: ListKind, name: string): string {
  return `${LIST_PREFIXES[kind]}${name}.txt`;
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/u;

/**
 * Reads a list file: one term per line (UTF-8), blank lines and lines starting with `#` skipped, spaces
 * collapsed, repeats (compared without case) kept once. Refused, with the first problem's line number, when a
 * line is too long or has too many words, holds a control character, or the list is empty or too long.
 */
export function parseTermList(kind: ListKind, text: string): { terms: string[] } | { reason: string } {
  const limits = LIST_LIMITS[kind];
  if (Buffer.byteLength(text, "utf8") > MAX_LIST_FILE_BYTES) return { reason: `the file is larger than ${MAX_LIST_FILE_BYTES / 1024} KiB` };
  if (text.includes("\uFFFD")) return { reason: "the file is not UTF-8 text" };
  const terms: string[] = [];
  const seen = new Set<string>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim().replace(/\s+/gu, " ");
    if (line.length === 0 || line.startsWith("#")) continue;
    const where = `line ${i + 1}`;
    if (CONTROL.test(line)) return { reason: `${where}: holds a control character` };
    if ([...line].length > limits.maxChars) return { reason: `${where}: longer than ${limits.maxChars} characters` };
    const words = line.split(" ").length;
    if (words > limits.maxWords) {
      return { reason: `${where}: ${words} words; a ${kind === "filter" ? "filter entry is one word" : `term is at most ${limits.maxWords} words`}` };
    }
    if (!/[\p{L}\p{N}]/u.test(line)) return { reason: `${where}: has no letter or digit` };
    const key = line.normalize("NFKC").toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    terms.push(line);
    if (terms.length > limits.maxTerms) return { reason: `more than ${limits.maxTerms} terms (a ${kind === "filter" ? "filter" : "vocabulary"} holds at most ${limits.maxTerms})` };
  }
  if (terms.length === 0) return { reason: "the list is empty: put one term per line" };
  return { terms };
}

/**
 * The lists a job uses, resolved once when it is chunked (so every later step sees the same terms, whatever is
 * registered or removed meanwhile), with the prompt the transcriber sends (the user's prompt and the terms
 * that fit the provider's budget: vocabulary/prompt-budget.ts).
 */
export const listSnapshotSchema = z.object({
  vocabulary: z.object({ name: z.string(), terms: z.array(z.string()) }).optional(),
  filter: z.object({ name: z.string(), terms: z.array(z.string()) }).optional(),
  /** What each segment's request carries as `prompt`; absent when there is nothing to send. */
  prompt: z.string().optional(),
  /** Vocabulary terms in the prompt / left out of it (counts only: the terms are the user's data). */
  promptTerms: z.number().int().nonnegative(),
  promptTermsLeftOut: z.number().int().nonnegative(),
});
export type ListSnapshot = z.infer<typeof listSnapshotSchema>;

/** Work-bucket key of a job's list snapshot (it expires with the job's other work objects). */
export const listSnapshotKey = (jobId: string) => `jobs/${jobId}/vocabulary.json`;
