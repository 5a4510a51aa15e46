import { describe, expect, it } from "vitest";
import type { Transcript, TranscriptWord } from "../../shared/domain/types.js";
import { ibanValid, luhnValid, mod97 } from "../../shared/domain/redaction/checksums.js";
import { detectPii } from "../../shared/domain/redaction/detect-pii.js";
import { PII_TOKEN, redactTranscript } from "../../shared/domain/redaction/redact-transcript.js";
import { groupUtterances } from "../../shared/domain/stitching/utterances.js";
import { renderTranscript } from "../../shared/domain/formats/index.js";

function words(text: string, speaker = "SPEAKER_00"): TranscriptWord[] {
  return text.split(" ").map((word, i) => ({ word, start: i * 0.5, end: i * 0.5 + 0.4, speaker_id: speaker }));
}
const caught = (text: string) => detectPii(words(text)).map((s) => ({ kind: s.kind, words: text.split(" ").slice(s.from, s.to).join(" ") }));

describe("redaction: checksums", () => {
  it("Luhn accepts card numbers and refuses one digit off", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("5500005555555559")).toBe(true);
    expect(luhnValid("378282246310005")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(luhnValid("41111a")).toBe(false);
  });

  it("mod-97 accepts IBANs and refuses a changed digit or a wrong length", () => {
    expect(ibanValid("GB82WEST12345698765432")).toBe(true);
    expect(ibanValid("DE89370400440532013000")).toBe(true);
    expect(ibanValid("gb82west12345698765432")).toBe(true);
    expect(ibanValid("GB82WEST12345698765433")).toBe(false);
    expect(ibanValid("GB82WEST1234569876543")).toBe(false);
    expect(mod97("3214282912345698765432161182")).toBe(1);
  });
});

describe("redaction: what is caught", () => {
  it("e-mail addresses", () => {
    expect(caught("write to ada.lovelace@example.com, please")).toEqual([{ kind: "email", words: "ada.lovelace@example.com," }]);
  });

  it("a card number written in groups, and one spoken digit by digit", () => {
    expect(caught("card 4111 1111 1111 1111 thanks")).toEqual([{ kind: "card", words: "4111 1111 1111 1111" }]);
    const spoken = "it is four one one one one one one one one one one one one one one one ok";
    expect(caught(spoken)).toEqual([{ kind: "card", words: spoken.split(" ").slice(2, 18).join(" ") }]);
  });

  it("phone numbers: international, dashed, ten digits, spoken", () => {
    expect(caught("call +44 20 7946 0958 now")).toEqual([{ kind: "phone", words: "+44 20 7946 0958" }]);
    expect(caught("call 555-0123 now")).toEqual([{ kind: "phone", words: "555-0123" }]);
    expect(caught("call 2025550143 now")).toEqual([{ kind: "phone", words: "2025550143" }]);
    expect(caught("call (202) 555-0143 now")).toEqual([{ kind: "phone", words: "(202) 555-0143" }]);
    expect(caught("call five five five zero one two three now")).toEqual([{ kind: "phone", words: "five five five zero one two three" }]);
  });

  it("IBANs in groups", () => {
    expect(caught("pay GB82 WEST 1234 5698 7654 32 today")).toEqual([{ kind: "iban", words: "GB82 WEST 1234 5698 7654 32" }]);
  });

  it("other long numbers (account, social security)", () => {
    expect(caught("my number is 123-45-6789 ok")).toEqual([{ kind: "number", words: "123-45-6789" }]);
  });
});

describe("redaction: what is not caught (false positives)", () => {
  const clean = [
    "on 2024-05-02 at 10:30 we met",
    "the date was 5/2/2024",
    "it cost $1,250,000 last year",
    "it cost 1 250 000 dollars",
    "revenue of 250000000 euros",
    "back in 2019 2020 and 2021",
    "in 1999 2024",
    "we grew 12.5% to 3.75 million",
    "pi is 3.14159265",
    "meet at 9 30 on the 4th",
    "one of the two people",
    "room 101 floor 4",
    "scores of 15, 20, 30, 40, 50 today",
    "a card 4111 1111 1111 1112 shape but not a number",
  ];
  for (const sentence of clean) {
    it(`leaves "${sentence}" alone`, () => {
      const found = caught(sentence);
      // A 16-digit run that fails Luhn is still a long number (redacted as such), never a card.
      if (sentence.includes("1112")) expect(found.map((f) => f.kind)).not.toContain("card");
      else expect(found).toEqual([]);
    });
  }

  it("does not join numbers across speakers or long pauses", () => {
    // Prepare: joined, "555 012" and "3456" would be ten digits: a phone number
    const shift = (ws: TranscriptWord[], by: number) => ws.map((w) => ({ ...w, start: w.start + by, end: w.end + by }));
    const acrossSpeakers = [...words("call 555 012", "SPEAKER_00"), ...shift(words("3456 ok", "SPEAKER_01"), 1.5)];
    const acrossPause = [...words("call 555 012"), ...shift(words("3456 ok"), 4)];

    // Act, Assess
    expect(detectPii(acrossSpeakers)).toEqual([]);
    expect(detectPii(acrossPause)).toEqual([]);
    expect(detectPii([...words("call 555 012"), ...shift(words("3456 ok"), 1.5)])).toEqual([{ from: 1, to: 4, kind: "phone" }]);
  });
});

describe("redaction: the redacted transcript", () => {
  it("makes each span one [PII] word from the first start to the last end, and leaves other words as they were", () => {
    // Prepare
    const ws = words("my card is 4111 1111 1111 1111. thanks");
    const t: Transcript = { text: ws.map((w) => w.word).join(" "), language: "en", duration: 5, words: ws, segments: groupUtterances(ws), speakers: ["SPEAKER_00"] };

    // Act
    const { transcript, spans, wordsRedacted } = redactTranscript(t);

    // Assess
    expect(transcript.text).toBe(`my card is ${PII_TOKEN}. thanks`);
    expect(spans).toEqual([{ start: 1.5, end: 3.4, kind: "card" }]);
    expect(wordsRedacted).toBe(4);
    expect(transcript.words.find((w) => w.word.startsWith(PII_TOKEN))).toMatchObject({ start: 1.5, end: 3.4, speaker_id: "SPEAKER_00" });
    expect(transcript.words.at(-1)).toEqual(ws.at(-1));
    for (const format of ["json", "verbose_json", "text", "srt", "vtt"] as const) {
      const out = renderTranscript(transcript, format);
      expect(out).toContain(PII_TOKEN);
      expect(out).not.toContain("4111");
    }
  });
});

describe("redaction: runs as providers write them", () => {
  it("takes a number with the sentence's punctuation between its groups", () => {
    expect(caught("call +44 20, 7946 0958. thanks")).toEqual([{ kind: "phone", words: "+44 20, 7946 0958." }]);
  });

  it("does not run a written number on into a spoken digit after it", () => {
    expect(caught("card 5500 0055 5555 5559 two good")).toEqual([{ kind: "card", words: "5500 0055 5555 5559" }]);
  });
});
