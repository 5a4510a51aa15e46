import { describe, expect, it } from "vitest";
import type { TranscriptWord } from "../../shared/domain/types.js";
import { LIST_LIMITS, listOfKey, parseTermList } from "../../shared/domain/vocabulary/term-list.js";
import { estimatePromptTokens, PROMPT_TOKEN_BUDGET, vocabularyPrompt } from "../../shared/domain/vocabulary/prompt-budget.js";
import { fixTermSpellings, maxEditsFor } from "../../shared/domain/vocabulary/fix-spellings.js";
import { applyVocabularyFilter, maskWord } from "../../shared/domain/vocabulary/filter-words.js";
import { parseJobOptions } from "../../shared/domain/options/options.js";

/** Words from text, 0.5 s apart, one speaker unless a word is prefixed `B:`. */
function words(text: string): TranscriptWord[] {
  return text.split(" ").map((raw, i) => {
    const other = raw.startsWith("B:");
    return { word: other ? raw.slice(2) : raw, start: i * 0.5, end: i * 0.5 + 0.4, speaker_id: other ? "SPEAKER_01" : "SPEAKER_00" };
  });
}
const text = (ws: readonly TranscriptWord[]) => ws.map((w) => w.word).join(" ");

describe("word lists: reading a list file", () => {
  it("keeps one term per line, in order, without blanks, comments or repeats", () => {
    // Act
    const parsed = parseTermList("vocabulary", "# product names\nKubernetes\n\n  ACME   Corp \nkubernetes\r\nSalesforce\n");

    // Assess
    expect(parsed).toEqual({ terms: ["Kubernetes", "ACME Corp", "Salesforce"] });
  });

  it("refuses with the line's number: too long, too many words, a control character, no letter", () => {
    expect(parseTermList("vocabulary", `ok\n${"x".repeat(65)}`)).toEqual({ reason: "line 2: longer than 64 characters" });
    expect(parseTermList("vocabulary", "a b c d e")).toMatchObject({ reason: expect.stringMatching(/^line 1: 5 words/) });
    expect(parseTermList("filter", "two words")).toMatchObject({ reason: expect.stringContaining("a filter entry is one word") });
    expect(parseTermList("vocabulary", "bad\u0007bell")).toEqual({ reason: "line 1: holds a control character" });
    expect(parseTermList("vocabulary", "---")).toEqual({ reason: "line 1: has no letter or digit" });
  });

  it("refuses an empty list and one with too many terms", () => {
    expect(parseTermList("vocabulary", "\n# nothing\n")).toMatchObject({ reason: expect.stringContaining("empty") });
    const many = Array.from({ length: LIST_LIMITS.vocabulary.maxTerms + 1 }, (_, i) => `term${i}`).join("\n");
    expect(parseTermList("vocabulary", many)).toMatchObject({ reason: expect.stringContaining(`more than ${LIST_LIMITS.vocabulary.maxTerms} terms`) });
  });

  it("names lists from their keys", () => {
    expect(listOfKey("vocabularies/acme.txt")).toEqual({ kind: "vocabulary", name: "acme" });
    expect(listOfKey("vocabulary-filters/profanity.txt")).toEqual({ kind: "filter", name: "profanity" });
    expect(listOfKey("vocabularies/a/b.txt")).toMatchObject({ invalid: expect.any(String) });
    expect(listOfKey("meetings/a.mp3")).toBeUndefined();
  });
});

describe("word lists: job options", () => {
  it("reads vocabulary, filter, filter-method and redact, and defaults the method to mask", () => {
    // Act
    const parsed = parseJobOptions({ vocabulary: "acme", filter: "profanity", redact: "PII" });

    // Assess
    expect(parsed).toMatchObject({ ok: true, options: { vocabulary: "acme", filter: "profanity", filterMethod: "mask", redact: "pii" } });
  });

  it("refuses bad values with the key named", () => {
    const parsed = parseJobOptions({ vocabulary: "no spaces", "filter-method": "blur", redact: "all" });
    expect(parsed.ok).toBe(false);
    const reason = (parsed as { reason: string }).reason;
    expect(reason).toContain("vocabulary 'no spaces' is not a list name");
    expect(reason).toContain("filter-method 'blur' must be one of mask, remove, tag");
    expect(reason).toContain("redact 'all' must be one of pii");
  });

  it("refuses a filter method without a filter", () => {
    expect(parseJobOptions({ "filter-method": "tag" })).toEqual({ ok: false, reason: expect.stringContaining("filter-method needs filter") });
  });
});

describe("word lists: the prompt budget", () => {
  it("puts the user's prompt first, then the terms in order while they fit", () => {
    // Act
    const built = vocabularyPrompt("Weekly sync.", ["Kubernetes", "ACME Corp"]);

    // Assess
    expect(built).toEqual({ prompt: "Weekly sync. Kubernetes, ACME Corp.", included: 2, leftOut: 0 });
  });

  it("stops at the first term that does not fit and never passes the budget", () => {
    // Prepare: 200 terms of 10 characters each, far more than 224 tokens
    const terms = Array.from({ length: 200 }, (_, i) => `Term${String(i).padStart(6, "0")}`);

    // Act
    const built = vocabularyPrompt("Call about the launch.", terms);

    // Assess
    expect(estimatePromptTokens(built.prompt!)).toBeLessThanOrEqual(PROMPT_TOKEN_BUDGET);
    expect(built.included).toBeGreaterThan(20);
    expect(built.included + built.leftOut).toBe(200);
    expect(built.prompt!.startsWith("Call about the launch. Term000000, Term000001")).toBe(true);
  });

  it("adds no term when the user's prompt alone fills the budget, and keeps that prompt whole", () => {
    const long = "word ".repeat(120).trim();
    expect(vocabularyPrompt(long, ["Kubernetes"])).toEqual({ prompt: long, included: 0, leftOut: 1 });
  });

  it("counts non-ASCII text by its bytes (conservatively)", () => {
    expect(estimatePromptTokens("日本")).toBe(3);
  });
});

describe("word lists: fixing near-miss spellings", () => {
  const terms = ["Kubernetes", "ACME Corp", "Salesforce", "Anthropic", "Will", "Acme"];

  it("fixes near misses of a term, keeping times, speakers and punctuation", () => {
    // Prepare
    const heard = words("we run kubernetis, on anthropik servers");

    // Act
    const { words: fixed, fixed: count } = fixTermSpellings(heard, terms);

    // Assess
    expect(text(fixed)).toBe("we run Kubernetes, on Anthropic servers");
    expect(count).toBe(2);
    expect(fixed.map((w) => [w.start, w.end, w.speaker_id])).toEqual(heard.map((w) => [w.start, w.end, w.speaker_id]));
  });

  it("fixes a multi-word term over consecutive words, and a term heard as two words", () => {
    // Act
    const { words: fixed } = fixTermSpellings(words("ask acme corp. about sales force today"), terms);

    // Assess
    expect(text(fixed)).toBe("ask ACME Corp. about Salesforce today");
    const joined = fixed.find((w) => w.word === "Salesforce")!;
    expect([joined.start, joined.end]).toEqual([2, 2.9]);
  });

  it("never joins words of two speakers", () => {
    expect(text(fixTermSpellings(words("sales B:force"), terms).words)).toBe("sales force");
  });

  it("leaves common words alone: no false positives", () => {
    // "will" is a common word and "Will" a one-word term; "cloud" is not "Claude"; "acne" is 1 edit from a 4-letter term
    const sentences = [
      "we will see",
      "the cloud bill",
      "acne cream",
      "our sales team has force",
      "coverage for kids",
      "anthem and tropic",
      "the cubes are net",
    ];
    for (const sentence of sentences) {
      expect(text(fixTermSpellings(words(sentence), [...terms, "Claude"]).words)).toBe(sentence);
    }
  });

  it("scales the allowed distance with the term's length", () => {
    expect([3, 4, 5, 7, 8, 11, 12, 20].map(maxEditsFor)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    // A short term is only fixed when it is the same word in other case or punctuation.
    expect(text(fixTermSpellings(words("acme and acmi"), ["Acme"]).words)).toBe("Acme and acmi");
  });

  it("leaves words with digits alone", () => {
    expect(text(fixTermSpellings(words("kubernetes1 k8s"), terms).words)).toBe("kubernetes1 k8s");
  });
});

describe("word lists: the vocabulary filter", () => {
  const heard = words("well damn, that is Damn good crap");

  it("mask writes *** for the letters and keeps punctuation", () => {
    const { words: out, matched } = applyVocabularyFilter(heard, ["damn", "crap"], "mask");
    expect(text(out)).toBe("well ***, that is *** good ***");
    expect(matched).toBe(3);
    expect(maskWord("(damn!)")).toBe("(***!)");
  });

  it("remove drops the words and leaves the others' times as they were", () => {
    const { words: out } = applyVocabularyFilter(heard, ["damn", "crap"], "remove");
    expect(text(out)).toBe("well that is good");
    expect(out.map((w) => w.start)).toEqual([0, 1, 1.5, 2.5]);
  });

  it("tag keeps the words and flags them", () => {
    const { words: out } = applyVocabularyFilter(heard, ["damn"], "tag");
    expect(text(out)).toBe(text(heard));
    expect(out.filter((w) => w.vocabulary_filter_match).map((w) => w.word)).toEqual(["damn,", "Damn"]);
  });

  it("matches whole words only", () => {
    expect(text(applyVocabularyFilter(words("damnation crappy"), ["damn", "crap"], "mask").words)).toBe("damnation crappy");
  });
});
