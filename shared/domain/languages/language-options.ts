import { AUTO_LANGUAGE, ISO_639_1, normalizeLanguage } from "../options/languages.js";

/**
 * `language-options=en,de,fr`: the languages a job with `language=auto` may be heard in, as Amazon Transcribe's
 * `LanguageOptions` limit its identification. A Whisper-style provider takes one `language` or none and has no
 * detection-only endpoint, so the limit is kept per segment request (see languageToAskAgain).
 */
export const LANGUAGE_OPTIONS_LIMITS = { min: 2, max: 10 } as const;

export type ParsedLanguageOptions = { ok: true; codes: string[] } | { ok: false; reason: string };

/** `en,de,fr` (any case, spaces allowed): 2..10 distinct ISO 639-1 codes, in the order given. */
export function parseLanguageOptions(raw: string): ParsedLanguageOptions {
  const shown = raw.slice(0, 80);
  const codes = raw.split(",").map((code) => code.trim().toLowerCase()).filter((code) => code.length > 0);
  const bad = codes.find((code) => code === AUTO_LANGUAGE || !ISO_639_1.has(code));
  if (bad !== undefined) {
    const suggestion = bad === AUTO_LANGUAGE ? null : normalizeLanguage(bad);
    return {
      ok: false,
      reason:
        `language-options '${shown}': '${bad.slice(0, 40)}' is not an ISO 639-1 code` +
        (suggestion ? ` (did you mean '${suggestion}'?)` : "") +
        ": use two-letter codes separated by commas, such as 'en,de,fr'",
    };
  }
  const unique = [...new Set(codes)];
  const { min, max } = LANGUAGE_OPTIONS_LIMITS;
  if (unique.length < min || unique.length > max) {
    return { ok: false, reason: `language-options '${shown}': name ${min} to ${max} different languages, not ${unique.length}` };
  }
  return { ok: true, codes: unique };
}

/** The rule between keys: options only limit a detection, so they need `language=auto`. */
export function languageOptionsProblem(language: string, languageOptions: readonly string[] | undefined): string | undefined {
  if (languageOptions === undefined || language === AUTO_LANGUAGE) return undefined;
  return `language-options needs language=auto: the job names one language ('${language}'), so there is nothing to choose`;
}

/**
 * The rule for a segment of a job with language options. The segment is sent once with no language (the model
 * detects it, as with `language=auto`). When the answer's language is one of the options, it stands. When it
 * is not, the segment is asked again once, with `language` set to the first option (the caller lists the most
 * likely language first): Whisper-style providers return no ranking of the other languages, so "the most
 * likely allowed one" cannot be read from the answer. The second answer stands whatever it says. An answer
 * with no language (text-only models) cannot be checked and stands. Returns the language to ask again with,
 * or undefined when the first answer stands.
 */
export function languageToAskAgain(detected: string | undefined, languageOptions: readonly string[]): string | undefined {
  if (languageOptions.length === 0) return undefined;
  const raw = detected?.trim();
  if (!raw) return undefined;
  const code = normalizeLanguage(raw) ?? raw.toLowerCase();
  return languageOptions.includes(code) ? undefined : languageOptions[0];
}
