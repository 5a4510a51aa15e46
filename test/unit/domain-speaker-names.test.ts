/**
 * Speakers' names: the naming rule (speaker book names -> label names), name checks, the stitch carrying the
 * names to the final labels, and every output format showing them.
 */
import { describe, expect, it } from "vitest";
import { parseVerboseJson, renderTranscript } from "../../shared/domain/formats/index.js";
import { checkSpeakerName, nameSpeakerMap, namedSegments, withSpeakerNames } from "../../shared/domain/speakers/speaker-names.js";
import { stitchSegments } from "../../shared/domain/stitching/stitch.js";
import { groupUtterances } from "../../shared/domain/stitching/utterances.js";
import { OUTPUT_FORMATS, type Transcript, type TranscriptWord } from "../../shared/domain/types.js";
import { wordsEverySecond } from "../support/fake-provider.js";
import { cutSegments, segmentResult } from "../support/job-fixtures.js";

describe("nameSpeakerMap", () => {
  it("names a label by its voice's name, through the map the limits left", () => {
    // Prepare: V1 was merged into V0 for --max-speakers; V2 is its own label
    const bookMap = { 0: { A: "V0", B: "V1" }, 1: { C: "V2" } };
    const limited = { 0: { A: "V0", B: "V0" }, 1: { C: "V2" } };
    // Act
    const named = nameSpeakerMap(bookMap, { V0: "Ada", V1: null, V2: "Grace" }, limited);
    // Assess: V1 matched nobody, so the merged label takes the name its named voice agrees on
    expect(named).toEqual({ map: limited, names: { V0: "Ada", V2: "Grace" }, joined: [] });
  });

  it("leaves a label unnamed when its named voices disagree, or none is named", () => {
    // Prepare
    const bookMap = { 0: { A: "V0", B: "V1" }, 1: { C: "V2", D: "V3" } };
    const limited = { 0: { A: "V0", B: "V0" }, 1: { C: "V2", D: "V3" } };
    // Act
    const named = nameSpeakerMap(bookMap, { V0: "Ada", V1: "Grace", V2: null }, limited);
    // Assess
    expect(named.names).toEqual({});
  });

  it("joins two labels with the same name into the one the segments reach first", () => {
    // Prepare: the settlers kept Ada's voice apart twice (V0 and V3)
    const bookMap = { 0: { A: "V0", B: "V1" }, 1: { A: "V3", B: "V1" } };
    // Act
    const named = nameSpeakerMap(bookMap, { V0: "Ada", V1: "Grace", V3: "Ada" }, bookMap);
    // Assess
    expect(named.map).toEqual({ 0: { A: "V0", B: "V1" }, 1: { A: "V0", B: "V1" } });
    expect(named.names).toEqual({ V0: "Ada", V1: "Grace" });
    expect(named.joined).toEqual([["V3", "V0"]]);
  });

  it("names a split label by the voice it was split from, and leaves the map alone without names", () => {
    // Prepare: --min-speakers split V0's weak label 1/B off as its own label
    const bookMap = { 0: { A: "V0" }, 1: { B: "V0" } };
    const limited = { 0: { A: "V0" }, 1: { B: "V0:split" } };
    // Act
    const named = nameSpeakerMap(bookMap, { V0: "Ada" }, limited);
    const unnamed = nameSpeakerMap(bookMap, undefined, limited);
    // Assess: both are Ada, so they are one label again
    expect(named.map).toEqual({ 0: { A: "V0" }, 1: { B: "V0" } });
    expect(unnamed).toEqual({ map: limited, names: {}, joined: [] });
  });
});

describe("checkSpeakerName", () => {
  it("trims and accepts 1..64 characters", () => {
    expect(checkSpeakerName("  Ada Lovelace ")).toEqual({ ok: true, name: "Ada Lovelace" });
    expect(checkSpeakerName("Zoë 🎙️")).toEqual({ ok: true, name: "Zoë 🎙️" });
    expect(checkSpeakerName("é".repeat(64))).toMatchObject({ ok: true });
  });

  it("refuses empty, long, control and line-breaking names", () => {
    for (const bad of ["", "   ", "x".repeat(65), "Ada\nLovelace", "Ada\u0000", "Ada\u2028Lovelace", "evil\u202Eeman"]) {
      expect(checkSpeakerName(bad), JSON.stringify(bad)).toMatchObject({ ok: false });
    }
  });
});

describe("stitchSegments with names", () => {
  it("puts each name under the label the stitch gives its speaker", () => {
    // Prepare: V7 speaks first, so it becomes SPEAKER_00
    const [segment] = cutSegments(1);
    const words = [...wordsEverySecond(2, { from: 1, prefix: "a", speaker: "X" }), ...wordsEverySecond(2, { from: 5, prefix: "b", speaker: "Y" })];
    const result = segmentResult(segment, words);
    // Act
    const t = stitchSegments([result], {
      duration: 60,
      diarize: true,
      speakerMap: { 0: { X: "V7", Y: "V2" } },
      speakerNames: { V7: "Ada", V9: "Nobody here" },
    });
    // Assess
    expect(t.speakers).toEqual(["SPEAKER_00", "SPEAKER_01"]);
    expect(t.speaker_names).toEqual({ SPEAKER_00: "Ada" });
    expect(namedSegments(t).map((s) => [s.speaker_id, s.speaker_name])).toEqual([
      ["SPEAKER_00", "Ada"],
      ["SPEAKER_01", undefined],
    ]);
  });
});

function dialogue(names?: Record<string, string>): Transcript {
  const words: TranscriptWord[] = [
    { word: "Hello", start: 0.5, end: 0.9, speaker_id: "SPEAKER_00" },
    { word: "there.", start: 1.0, end: 1.4, speaker_id: "SPEAKER_00" },
    { word: "Hi", start: 3.0, end: 3.3, speaker_id: "SPEAKER_01" },
    { word: "back.", start: 3.4, end: 3.8, speaker_id: "SPEAKER_01" },
  ];
  const t: Transcript = {
    text: words.map((w) => w.word).join(" "),
    language: "en",
    duration: 5,
    words,
    segments: groupUtterances(words),
    speakers: ["SPEAKER_00", "SPEAKER_01"],
  };
  return withSpeakerNames(t, names);
}

describe("outputs with names", () => {
  it("verbose_json keeps speaker_id and adds speaker_name where named, and the speaker_names map", () => {
    // Act
    const json = JSON.parse(renderTranscript(dialogue({ SPEAKER_01: "Grace Hopper" }), "verbose_json"));
    // Assess
    expect(json.words[0]).toEqual({ word: "Hello", start: 0.5, end: 0.9, speaker_id: "SPEAKER_00" });
    expect(json.words[2]).toEqual({ word: "Hi", start: 3, end: 3.3, speaker_id: "SPEAKER_01", speaker_name: "Grace Hopper" });
    expect(json.segments.map((s: { speaker_id: string; speaker_name?: string }) => [s.speaker_id, s.speaker_name])).toEqual([
      ["SPEAKER_00", undefined],
      ["SPEAKER_01", "Grace Hopper"],
    ]);
    expect(json.speaker_names).toEqual({ SPEAKER_01: "Grace Hopper" });
    expect(json.speakers).toEqual(["SPEAKER_00", "SPEAKER_01"]);
  });

  it("text, srt and vtt show the name where they showed the label", () => {
    // Prepare
    const t = dialogue({ SPEAKER_01: "Grace Hopper" });
    // Act
    const text = renderTranscript(t, "text");
    const srt = renderTranscript(t, "srt");
    const vtt = renderTranscript(t, "vtt");
    // Assess
    expect(text).toBe("SPEAKER_00: Hello there.\nGrace Hopper: Hi back.\n");
    expect(srt).toContain("\nSPEAKER_00: Hello there.\n");
    expect(srt).toContain("\nGrace Hopper: Hi back.\n");
    expect(vtt).toContain("\n<v SPEAKER_00>Hello there.\n");
    expect(vtt).toContain("\n<v Grace Hopper>Hi back.\n");
  });

  it("escapes a name in a VTT voice tag, and shortens a long one in an SRT cue's first line", () => {
    // Prepare
    const t = dialogue({ SPEAKER_00: "A <b>&</b> > B", SPEAKER_01: "Maximiliana Theodora von Habsburg-Lothringen" });
    // Act
    const vtt = renderTranscript(t, "vtt");
    const srt = renderTranscript(t, "srt");
    // Assess
    expect(vtt).toContain("<v A &lt;b&gt;&amp;&lt;/b&gt; &gt; B>Hello there.");
    expect(vtt).not.toContain("<b>");
    const lines = srt.split("\n");
    expect(lines).toContain("Maximiliana Theodora vo…: Hi back.");
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(42);
  });

  it("shows a name with a line break in it (one that skipped the checks) on one line", () => {
    // Act
    const text = renderTranscript(dialogue({ SPEAKER_00: "Ada\nLovelace" }), "text");
    // Assess
    expect(text.split("\n")[0]).toBe("Ada Lovelace: Hello there.");
  });

  it("reads its verbose_json back into the transcript, so every format renders the same again", () => {
    // Prepare
    const t = dialogue({ SPEAKER_00: "Ada" });
    // Act
    const back = parseVerboseJson(renderTranscript(t, "verbose_json"));
    // Assess
    expect(back).toEqual(t);
    for (const format of OUTPUT_FORMATS) expect(renderTranscript(back, format)).toBe(renderTranscript(t, format));
    expect(parseVerboseJson(renderTranscript(dialogue(), "verbose_json")).speaker_names).toBeUndefined();
    expect(() => parseVerboseJson(JSON.stringify({ text: "x" }))).toThrow();
  });

  it("drops names of labels the transcript does not have", () => {
    expect(withSpeakerNames(dialogue(), { SPEAKER_07: "Ghost" }).speaker_names).toBeUndefined();
  });
});
