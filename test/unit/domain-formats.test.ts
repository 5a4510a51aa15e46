import { describe, expect, it } from "vitest";
import { renderTranscript, renderSrt, renderText, renderVtt } from "../../shared/domain/formats/index.js";
import { groupUtterances } from "../../shared/domain/stitching/utterances.js";
import { OUTPUT_FORMATS, type Transcript, type TranscriptWord } from "../../shared/domain/types.js";

function transcript(words: TranscriptWord[], duration = 120): Transcript {
  const segments = groupUtterances(words);
  return {
    text: words.map((w) => w.word).join(" "),
    language: "en",
    duration,
    words,
    segments,
    speakers: [...new Set(words.flatMap((w) => (w.speaker_id ? [w.speaker_id] : [])))].sort(),
  };
}

/** Two speakers, long turns, some long words and sentence ends: enough to exercise every caption rule. */
function dialogue(): Transcript {
  const vocabulary = "We measured the latency of every serverless function twice. Results? Interesting, surprisingly consistent numbers! Okay".split(" ");
  const words: TranscriptWord[] = [];
  let t = 0.4;
  for (let i = 0; i < 240; i++) {
    const speaker = Math.floor(i / 40) % 2 === 0 ? "SPEAKER_00" : "SPEAKER_01";
    const word = vocabulary[i % vocabulary.length];
    words.push({ word, start: t, end: t + 0.25, speaker_id: speaker });
    t += i % 17 === 16 ? 2.0 : 0.32;
  }
  return transcript(words, t + 1);
}

interface ParsedCue {
  start: number;
  end: number;
  lines: string[];
}

function ms(stamp: string): number {
  const [h, m, s, milli] = stamp.split(/[:,.]/).map(Number);
  return ((h * 60 + m) * 60 + s) * 1000 + milli;
}

function parseSrt(srt: string): ParsedCue[] {
  return srt
    .trim()
    .split(/\n\n+/)
    .filter((b) => b.length > 0)
    .map((block, i) => {
      const [number, times, ...lines] = block.split("\n");
      expect(number).toBe(String(i + 1));
      const match = /^(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})$/.exec(times);
      expect(match, times).not.toBeNull();
      return { start: ms(match![1]), end: ms(match![2]), lines };
    });
}

function parseVtt(vtt: string): ParsedCue[] {
  const [header, ...blocks] = vtt.trim().split(/\n\n+/);
  expect(header).toBe("WEBVTT");
  return blocks.map((block) => {
    const [times, ...lines] = block.split("\n");
    const match = /^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})$/.exec(times);
    expect(match, times).not.toBeNull();
    return { start: ms(match![1]), end: ms(match![2]), lines };
  });
}

function expectCaptionRules(cues: ParsedCue[], visible: (line: string) => string): void {
  expect(cues.length).toBeGreaterThan(0);
  cues.forEach((cue, i) => {
    expect(cue.lines.length).toBeGreaterThanOrEqual(1);
    expect(cue.lines.length).toBeLessThanOrEqual(2);
    for (const line of cue.lines) expect([...visible(line)].length).toBeLessThanOrEqual(42);
    expect(cue.end).toBeGreaterThan(cue.start);
    expect(cue.end - cue.start).toBeLessThanOrEqual(7000);
    if (i > 0) expect(cue.start).toBeGreaterThanOrEqual(cues[i - 1].end);
  });
}

describe("renderSrt", () => {
  it("writes cues that parse back and follow the caption rules", () => {
    // Prepare
    const t = dialogue();
    // Act
    const cues = parseSrt(renderSrt(t));
    // Assess
    expectCaptionRules(cues, (line) => line);
    const text = cues.map((c) => c.lines.join(" ").replace(/^SPEAKER_\d\d: /, "")).join(" ");
    expect(text).toBe(t.text);
  });

  it("starts a new cue at every change of speaker and names the speaker", () => {
    // Prepare
    const t = dialogue();
    // Act
    const cues = parseSrt(renderSrt(t));
    // Assess
    for (const cue of cues) expect(cue.lines[0]).toMatch(/^SPEAKER_0[01]: /);
    const cueOf = (wordIndex: number) =>
      cues.findIndex((c) => c.start <= Math.round(t.words[wordIndex].start * 1000) && Math.round(t.words[wordIndex].start * 1000) < c.end);
    expect(cueOf(40)).not.toBe(cueOf(39));
  });

  it("times cues from the words they hold", () => {
    // Prepare
    const words: TranscriptWord[] = [
      { word: "Hello", start: 1.2345, end: 1.6, speaker_id: null },
      { word: "there.", start: 1.7, end: 2.05, speaker_id: null },
    ];
    // Act
    const srt = renderSrt(transcript(words));
    // Assess
    expect(srt).toBe("1\n00:00:01,235 --> 00:00:02,050\nHello there.\n");
  });

  it("breaks a word longer than a line", () => {
    // Prepare
    const url = "https://example.com/a/very/long/path/that/never/ends/at/all";
    // Act
    const cues = parseSrt(renderSrt(transcript([{ word: url, start: 0, end: 1, speaker_id: null }])));
    // Assess
    expectCaptionRules(cues, (line) => line);
    expect(cues.flatMap((c) => c.lines).join("")).toBe(url);
  });
});

describe("renderVtt", () => {
  it("writes a WEBVTT file with voice tags that parses back and follows the caption rules", () => {
    // Prepare
    const t = dialogue();
    // Act
    const vtt = renderVtt(t);
    const cues = parseVtt(vtt);
    // Assess
    const untagged = (line: string) => line.replace(/^<v [^>]+>/, "");
    expectCaptionRules(cues, untagged);
    for (const cue of cues) expect(cue.lines[0]).toMatch(/^<v SPEAKER_0[01]>/);
    expect(cues.map((c) => c.lines.map(untagged).join(" ")).join(" ")).toBe(t.text);
  });

  it("escapes markup characters in cue text", () => {
    // Prepare
    const words: TranscriptWord[] = [{ word: "a<b&c-->", start: 0, end: 1, speaker_id: null }];
    // Act
    const vtt = renderVtt(transcript(words));
    // Assess
    expect(vtt).toBe("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\na&lt;b&amp;c--&gt;\n");
  });

  it("keeps cues from overlapping when word times do", () => {
    // Prepare: the second speaker's first word starts before the first one's last word ends
    const words: TranscriptWord[] = [
      { word: "one", start: 0, end: 0.8, speaker_id: "SPEAKER_00" },
      { word: "two", start: 0.5, end: 1.0, speaker_id: "SPEAKER_01" },
    ];
    // Act
    const cues = parseVtt(renderVtt(transcript(words)));
    // Assess
    expect(cues.map((c) => [c.start, c.end])).toEqual([[0, 500], [500, 1000]]);
  });
});

describe("renderText and JSON", () => {
  it("writes one line per utterance when diarized", () => {
    // Prepare
    const t = transcript([
      { word: "Hi.", start: 0, end: 0.4, speaker_id: "SPEAKER_00" },
      { word: "Hello!", start: 0.6, end: 1, speaker_id: "SPEAKER_01" },
      { word: "Bye.", start: 1.2, end: 1.5, speaker_id: "SPEAKER_00" },
    ]);
    // Act
    const text = renderText(t);
    // Assess
    expect(text).toBe("SPEAKER_00: Hi.\nSPEAKER_01: Hello!\nSPEAKER_00: Bye.\n");
  });

  it("writes paragraphs, broken at pauses, without diarization", () => {
    // Prepare
    const t = transcript([
      { word: "First", start: 0, end: 0.4, speaker_id: null },
      { word: "part.", start: 0.5, end: 0.9, speaker_id: null },
      { word: "Second.", start: 4, end: 4.5, speaker_id: null },
    ]);
    // Act
    const text = renderText(t);
    // Assess
    expect(text).toBe("First part.\n\nSecond.\n");
  });

  it("writes verbose_json with times rounded to milliseconds", () => {
    // Prepare
    const t = transcript([{ word: "Hi.", start: 0.12345, end: 0.6789, speaker_id: "SPEAKER_00" }], 3.14159);
    // Act
    const json = JSON.parse(renderTranscript(t, "verbose_json"));
    // Assess
    expect(json).toEqual({
      text: "Hi.",
      language: "en",
      duration: 3.142,
      words: [{ word: "Hi.", start: 0.123, end: 0.679, speaker_id: "SPEAKER_00" }],
      segments: [{ id: 0, start: 0.123, end: 0.679, text: "Hi.", speaker_id: "SPEAKER_00" }],
      speakers: ["SPEAKER_00"],
      speaker_names: {},
    });
    expect(JSON.parse(renderTranscript(t, "json"))).toEqual({ text: "Hi." });
  });

  it("renders an empty transcript as valid empty files in every format", () => {
    // Prepare
    const empty = transcript([], 5);
    // Act
    const rendered = Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, renderTranscript(empty, f)]));
    // Assess
    expect(rendered).toEqual({
      json: '{"text":""}',
      verbose_json: JSON.stringify({ text: "", language: "en", duration: 5, words: [], segments: [], speakers: [], speaker_names: {} }),
      text: "",
      srt: "",
      vtt: "WEBVTT\n",
    });
  });
});
