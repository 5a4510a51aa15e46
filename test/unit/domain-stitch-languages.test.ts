/** Mixed languages through the stitcher and the outputs: each word in its segment's language, the shares, VTT spans. */
import { describe, expect, it } from "vitest";
import { stitchSegments } from "../../shared/domain/stitching/stitch.js";
import { parseVerboseJson, renderSrt, renderVerboseJson, renderVtt } from "../../shared/domain/formats/index.js";
import type { SegmentResult, Word } from "../../shared/domain/types.js";

/** One segment of 10 s (no overlap) with a word every second, heard in `language`. */
function segment(index: number, language: string | undefined, speaker = "SPEAKER_00"): SegmentResult {
  const start = index * 10;
  const words: Word[] = Array.from({ length: 9 }, (_, i) => ({ word: `w${index}_${i}`, start: i + 0.5, end: i + 1, speaker }));
  return {
    jobId: "job",
    index,
    segment: { index, start, end: start + 10, ownStart: start, ownEnd: start + 10 },
    ...(language !== undefined ? { language } : {}),
    text: words.map((w) => w.word).join(" "),
    words,
    spans: [],
    speakers: [speaker],
  };
}

describe("stitching mixed languages", () => {
  it("gives every word and utterance its segment's language and keeps the majority as the transcript's", () => {
    // Prepare: English, English, German (as Whisper names it)
    const results = [segment(0, "english"), segment(1, "en"), segment(2, "german")];
    // Act
    const t = stitchSegments(results, { duration: 30, diarize: false });
    // Assess
    expect(t.language).toBe("en");
    expect(t.words.filter((w) => w.start < 20).every((w) => w.language === "en")).toBe(true);
    expect(t.words.filter((w) => w.start >= 20).every((w) => w.language === "de")).toBe(true);
    // The one turn is split where the language changes.
    expect(t.segments.map((s) => s.language)).toEqual(["en", "de"]);
    expect(t.languages).toEqual([
      { languageCode: "en", durationInSeconds: 9, fraction: 0.6667 },
      { languageCode: "de", durationInSeconds: 4.5, fraction: 0.3333 },
    ]);
  });

  it("leaves words without a language when their segment had none, and no shares when none had one", () => {
    // Act
    const t = stitchSegments([segment(0, undefined), segment(1, undefined)], { duration: 20, diarize: false });
    // Assess
    expect(t.words.some((w) => "language" in w)).toBe(false);
    expect(t.languages).toBeUndefined();
  });

  it("writes language codes per item in verbose_json only when there is more than one, and reads them back", () => {
    // Prepare
    const mixed = stitchSegments([segment(0, "en"), segment(1, "de")], { duration: 20, diarize: true });
    const single = stitchSegments([segment(0, "en"), segment(1, "en")], { duration: 20, diarize: true });
    // Act
    const mixedJson = JSON.parse(renderVerboseJson(mixed));
    const singleJson = JSON.parse(renderVerboseJson(single));
    // Assess
    expect(mixedJson.words[0].language_code).toBe("en");
    expect(mixedJson.segments.map((s: { language_code: string }) => s.language_code)).toEqual(["en", "de"]);
    expect(mixedJson.language_codes).toEqual([
      { language_code: "de", duration_in_seconds: 4.5, fraction: 0.5 },
      { language_code: "en", duration_in_seconds: 4.5, fraction: 0.5 },
    ]);
    expect(singleJson.words[0].language_code).toBeUndefined();
    expect(singleJson.language_codes).toEqual([{ language_code: "en", duration_in_seconds: 9, fraction: 1 }]);
    // A rename reads the file back: the same transcript, languages included.
    expect(parseVerboseJson(renderVerboseJson(mixed))).toEqual(mixed);
    expect(parseVerboseJson(renderVerboseJson(single)).segments[0].language).toBe("en");
  });

  it("wraps VTT cues in language spans only for a transcript of more than one language; SRT stays plain", () => {
    // Prepare
    const mixed = stitchSegments([segment(0, "en"), segment(1, "de")], { duration: 20, diarize: true });
    const single = stitchSegments([segment(0, "en"), segment(1, "en")], { duration: 20, diarize: true });
    // Act
    const vtt = renderVtt(mixed);
    // Assess
    const cues = vtt.split("\n\n").slice(1);
    expect(cues.every((cue) => /<v SPEAKER_0\d><lang (en|de)>[^]*<\/lang>$/.test(cue.trim()))).toBe(true);
    expect(vtt).toContain("<lang de>w1_0");
    expect(renderVtt(single)).not.toContain("<lang");
    expect(renderSrt(mixed)).not.toContain("<lang");
  });
});
