/**
 * Whisper reads at most 224 prompt tokens (half its 448-token context); a longer prompt is cut by the
 * provider, from the front, so the user's own words would be the first to go. We count tokens without the
 * tokenizer, conservatively: one token per two UTF-8 bytes. English BPE averages about four characters a
 * token, but rare words and names (what a vocabulary holds) split into short pieces, and other scripts take
 * a token or more per character; a byte pair is above what we have seen for either.
 */
export const PROMPT_TOKEN_BUDGET = 224;

export function estimatePromptTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, "utf8") / 2);
}

export interface VocabularyPrompt {
  /** The prompt to send; undefined when there is none. */
  prompt?: string;
  /** How many of the terms (the first ones, in the list's order) are in it. */
  included: number;
  leftOut: number;
}

/**
 * The prompt for every segment of a job: the user's own `prompt` first, whole (it was asked for; when it alone
 * is over the budget no term is added), then the vocabulary's terms in the list's order, separated by commas,
 * as many as fit the budget. The first term that does not fit ends the list, so which terms are left out is
 * simple to say: the ones after it. Put the terms that matter most first.
 */
export function vocabularyPrompt(userPrompt: string | undefined, terms: readonly string[], budget = PROMPT_TOKEN_BUDGET): VocabularyPrompt {
  const base = userPrompt?.trim() ?? "";
  let prompt = base;
  let included = 0;
  for (const term of terms) {
    const next = included === 0 ? `${base}${base ? " " : ""}${term}` : `${prompt}, ${term}`;
    // The closing full stop counts too.
    if (estimatePromptTokens(`${next}.`) > budget) break;
    prompt = next;
    included++;
  }
  if (included > 0) prompt = `${prompt}.`;
  return { ...(prompt ? { prompt } : {}), included, leftOut: terms.length - included };
}
