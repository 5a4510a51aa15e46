import { URL_POINTER_SUFFIX } from "../wiring.js";
import { metadataOptionsSchema } from "../domain/options/options.js";

/**
 * A recording by URL: a small JSON object dropped in the input bucket under a key ending in `.url.json`
 * (wiring.ts's URL_POINTER_SUFFIX), as Together's API takes a URL instead of a file:
 *
 *   { "url": "https://example.com/talk.mp3", "options": { "language": "en", "max-speakers": 2 } }
 *
 * `options` holds the same keys as the S3 metadata of an uploaded recording, as strings, numbers or booleans
 * (`speakers` also as a list of names); they are read by the same parser (domain/options/options.ts), so they
 * are held to the same rules and fail a job with the same reasons.
 */
export interface UrlPointer {
  url: string;
  /** The options as metadata strings, ready for parseJobOptions. */
  options: Record<string, string>;
}

/** A pointer is a few hundred bytes; anything this big is not one. */
export const MAX_POINTER_BYTES = 64 * 1024;
/** Longer URLs are refused by most servers anyway (and a job record is not the place for them). */
export const MAX_URL_LENGTH = 4096;

export function isUrlPointerKey(key: string): boolean {
  return key.toLowerCase().endsWith(URL_POINTER_SUFFIX);
}

/** The option keys a pointer may set: the metadata keys. */
export const POINTER_OPTION_KEYS: readonly string[] = Object.keys(metadataOptionsSchema.shape);

export type ParsedPointer = { ok: true; pointer: UrlPointer } | { ok: false; reason: string };

/** Reads a pointer object's bytes; every problem is one line naming what is wrong. */
export function parseUrlPointer(bytes: Uint8Array): ParsedPointer {
  const fail = (reason: string): ParsedPointer => ({ ok: false, reason: `url pointer: ${reason}` });
  if (bytes.length > MAX_POINTER_BYTES) return fail(`larger than ${MAX_POINTER_BYTES / 1024} KB; it holds only a URL and options`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message.replace(/\s+/g, " ").slice(0, 120)})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fail('not a JSON object like {"url": "https://…"}');
  const record = json as Record<string, unknown>;
  const unknownKey = Object.keys(record).find((key) => key !== "url" && key !== "options");
  if (unknownKey !== undefined) return fail(`unknown key '${unknownKey.slice(0, 40)}' (a pointer has "url" and "options")`);
  const { url, options = {} } = record;
  if (url === undefined) return fail('missing "url"');
  if (typeof url !== "string" || url.trim() === "") return fail('"url" must be a non-empty string');
  if (url.length > MAX_URL_LENGTH) return fail(`"url" is longer than ${MAX_URL_LENGTH} characters`);
  if (!URL.canParse(url.trim())) return fail(`"url" is not an absolute URL`);
  if (typeof options !== "object" || options === null || Array.isArray(options)) return fail('"options" must be an object');
  const strings: Record<string, string> = {};
  for (const [key, value] of Object.entries(options as Record<string, unknown>)) {
    if (!POINTER_OPTION_KEYS.includes(key)) {
      return fail(`unknown option '${key.slice(0, 40)}'; options are ${POINTER_OPTION_KEYS.join(", ")}`);
    }
    const text = optionText(value);
    if (text === undefined) return fail(`option '${key}' must be a string, a number or a boolean`);
    strings[key] = text;
  }
  return { ok: true, pointer: { url: url.trim(), options: strings } };
}

function optionText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "boolean") return String(value);
  // speakers: ["alice", "bob"], as the metadata's "alice,bob".
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join(",");
  return undefined;
}

/**
 * What a command-line argument is: an https URL (a recording by URL), a URL of another scheme (refused), or
 * a file path.
 */
export function urlArgumentKind(argument: string): "https" | "other-url" | "path" {
  if (/^https:\/\//i.test(argument)) return "https";
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(argument) ? "other-url" : "path";
}

/** The pointer the CLI writes: its flags' metadata as the options. */
export function urlPointerJson(url: string, options: Readonly<Record<string, string>>): string {
  return `${JSON.stringify({ url, options }, null, 2)}\n`;
}

/**
 * A URL as it may be logged, stored on the job and put in a reason: without its query string, fragment and
 * credentials (a presigned URL's signature lives in the query string).
 */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = typeof url === "string" ? new URL(url) : url;
    const query = parsed.search ? "?…" : "";
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${query}`;
  } catch {
    return "(not a URL)";
  }
}
