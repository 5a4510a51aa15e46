import { describe, expect, it } from "vitest";
import { dropHallucinations, type SegmentEnvelope } from "../../shared/domain/words/drop-hallucinations.js";
import type { TextSpan, Word } from "../../shared/domain/types.js";

const FRAME = 0.01;
const SILENCE = -90;
const SPEECH = -20;

/** An envelope (10 ms frames) at `floor` dB with bursts at their own level (speech by default). */
function envelope(seconds: number, bursts: Array<[number, number, number?]>, floor = SILENCE): SegmentEnvelope {
  const db = new Int8Array(Math.round(seconds / FRAME)).fill(floor);
  for (const [from, to, level = SPEECH] of bursts) {
    for (let f = Math.round(from / FRAME); f < Math.round(to / FRAME); f++) db[f] = level;
  }
  return { db, frameSeconds: FRAME };
}

/** Words said one after another from `start`, each `length` long with `gap` between them. */
function said(text: string, start: number, length = 0.3, gap = 0.1, speaker?: string): Word[] {
  return text.split(" ").map((word, i) => ({
    word,
    start: +(start + i * (length + gap)).toFixed(3),
    end: +(start + i * (length + gap) + length).toFixed(3),
    ...(speaker ? { speaker } : {}),
  }));
}

function answer(words: Word[] | null, text: string, spans: TextSpan[]) {
  return { text, words, spans, speakers: [...new Set((words ?? []).flatMap((w) => (w.speaker ? [w.speaker] : [])))].sort(), language: "en" };
}

const text = (words: readonly Word[]) => words.map((w) => w.word).join(" ");

describe("dropHallucinations: words over silence", () => {
  it('drops a "Thank you." over the silent tail', () => {
    // Prepare
    const speech = said("Hello there, how are you doing today?", 0.5);
    const tail = said("Thank you.", 7.0);
    const env = envelope(10, [[0.5, 3.3]]);
    const input = answer([...speech, ...tail], "Hello there, how are you doing today? Thank you.", [
      { start: 0.5, end: 3.3, text: "Hello there, how are you doing today?" },
      { start: 7.0, end: 7.7, text: "Thank you." },
    ]);

    // Act
    const { answer: out, dropped } = dropHallucinations(input, env);

    // Assess
    expect(out.words).toEqual(speech);
    expect(out.text).toBe("Hello there, how are you doing today?");
    expect(out.spans).toEqual([input.spans[0]]);
    expect(out.language).toBe("en");
    expect(dropped).toEqual({ silentWords: 2, loopWords: 0, loops: 0 });
  });

  it("drops a phrase placed inside a long pause, even when its end stretches to the next word", () => {
    // Prepare
    const before = said("we stopped", 0.5);
    const ghost: Word[] = [
      { word: "you", start: 4.0, end: 4.3 },
      { word: "know", start: 4.4, end: 7.9 },
    ];
    const after = said("and went on", 8.0);
    const env = envelope(10, [[0.5, 1.2], [8.0, 9.1]]);
    const input = answer([...before, ...ghost, ...after], "we stopped you know and went on", []);

    // Act
    const { answer: out, dropped } = dropHallucinations(input, env);

    // Assess
    expect(out.text).toBe("we stopped and went on");
    expect(dropped.silentWords).toBe(2);
  });

  it("keeps the same words over loud frames", () => {
    // Prepare
    const words = [...said("Hello there, how are you doing today?", 0.5), ...said("Thank you.", 7.0)];
    const env = envelope(10, [[0.5, 3.3], [7.0, 7.7]]);
    const input = answer(words, text(words), []);

    // Act
    const { answer: out, dropped } = dropHallucinations(input, env);

    // Assess
    expect(out).toBe(input);
    expect(dropped).toEqual({ silentWords: 0, loopWords: 0, loops: 0 });
  });

  it("keeps a quiet real word just above the noise floor, and drops one at the floor", () => {
    // Prepare: room noise at -70 dB wandering by ±3 dB; a word mumbled 12 dB above it.
    const env = envelope(10, [[0.5, 2.0], [6.0, 6.4, -58]], -70);
    for (let f = 0; f < env.db.length; f++) if (env.db[f] <= -67) (env.db as Int8Array)[f] = -73 + (f % 7);
    const loud = said("okay so", 0.5);
    const quiet = { word: "maybe", start: 6.0, end: 6.4 };
    const ghost = { word: "you", start: 8.5, end: 8.8 };
    const input = answer([...loud, quiet, ghost], "okay so maybe you", []);

    // Act
    const { answer: out } = dropHallucinations(input, env);

    // Assess
    expect(out.words).toEqual([...loud, quiet]);
    expect(out.text).toBe("okay so maybe");
  });

  it("keeps a word whose start is jittered 80 ms before its sound", () => {
    // Prepare
    const env = envelope(10, [[0.5, 1.0], [6.0, 6.4]]);
    const words = [...said("right", 0.5), { word: "then", start: 5.92, end: 6.3 }];
    const input = answer(words, "right then", []);

    // Act
    const { answer: out, dropped } = dropHallucinations(input, env);

    // Assess
    expect(out.words).toEqual(words);
    expect(dropped.silentWords).toBe(0);
  });

  it("keeps a first word after a pause whose start the provider stretched back over the pause", () => {
    // Prepare: "Welcome" is said at 5.0-5.5 but timed from 3.2.
    const env = envelope(10, [[0.5, 1.0], [5.0, 6.6]]);
    const words = [...said("hi", 0.5), { word: "Welcome", start: 3.2, end: 5.5 }, ...said("back everyone", 5.7)];
    const input = answer(words, "hi Welcome back everyone", []);

    // Act
    const { answer: out } = dropHallucinations(input, env);

    // Assess
    expect(out.words).toEqual(words);
  });

  it("drops nothing for silence when the envelope is flat (a bad envelope is likelier than a segment-long hallucination)", () => {
    // Prepare
    const words = said("this is real speech", 1.0);
    const input = answer(words, text(words), []);

    // Act
    const { answer: out, dropped } = dropHallucinations(input, envelope(10, []));

    // Assess
    expect(out).toBe(input);
    expect(dropped.silentWords).toBe(0);
  });

  it("drops nothing for silence when words lie past the envelope's end (it belongs to other audio)", () => {
    // Prepare
    const words = [...said("early words", 0.5), ...said("late words", 12)];
    const input = answer(words, text(words), []);

    // Act
    const { answer: out } = dropHallucinations(input, envelope(10, [[0.5, 1.3]]));

    // Assess
    expect(out).toBe(input);
  });

  it("rebuilds the text from the kept words when the words cannot be found in it", () => {
    // Prepare: the provider's text and words disagree ("Thanks so much" vs "thank you").
    const words = [...said("hello there", 0.5), ...said("thank you", 6)];
    const input = answer(words, "Hello there! Thanks so much.", []);

    // Act
    const { answer: out } = dropHallucinations(input, envelope(10, [[0.5, 1.3]]));

    // Assess
    expect(out.text).toBe("hello there");
  });

  it("drops only the speaker labels no kept word uses, and cuts spans by their own words", () => {
    // Prepare
    const a = said("so that is all", 0.5, 0.3, 0.1, "SPEAKER_00");
    const b = said("Thank you.", 6.0, 0.3, 0.1, "SPEAKER_01");
    const env = envelope(10, [[0.5, 2.1]]);
    const input = answer([...a, ...b], "So, that is all. Thank you.", [{ start: 0, end: 10, text: "So, that is all. Thank you." }]);

    // Act
    const { answer: out } = dropHallucinations(input, env);

    // Assess
    expect(out.speakers).toEqual(["SPEAKER_00"]);
    expect(out.text).toBe("So, that is all.");
    expect(out.spans).toEqual([{ start: 0, end: 10, text: "So, that is all." }]);
  });
});

describe("dropHallucinations: repetition loops", () => {
  it('collapses "thank you for watching" x8 over silence to the one occurrence that was said', () => {
    // Prepare: said once at 1.0-2.5, then repeated by the model over 20 s of silence.
    const phrase = "thank you for watching";
    const words = Array.from({ length: 8 }, (_, k) => said(phrase, 1.0 + k * 2.5, 0.3, 0.1)).flat();
    const env = envelope(22, [[1.0, 2.5]]);
    const spoken = Array.from({ length: 8 }, () => "Thank you for watching.").join(" ");
    const spans = Array.from({ length: 8 }, (_, k) => ({ start: 1.0 + k * 2.5, end: 2.5 + k * 2.5, text: "Thank you for watching." }));
    const input = answer(words, spoken, spans);

    // Act
    const { answer: out, dropped } = dropHallucinations(input, env);

    // Assess
    expect(out.words).toEqual(words.slice(0, 4));
    expect(out.text).toBe("Thank you for watching.");
    expect(out.spans).toEqual([spans[0]]);
    expect(dropped).toEqual({ silentWords: 0, loopWords: 28, loops: 1 });
  });

  it("collapses a loop over near-silence even where a breath makes one repeat look heard", () => {
    // Prepare
    const words = Array.from({ length: 6 }, (_, k) => said("see you next time", 1.0 + k * 2, 0.3, 0.1)).flat();
    const env = envelope(14, [[1.0, 2.6], [7.0, 7.7, -40]]);
    const input = answer(words, text(words), []);

    // Act
    const { answer: out, dropped } = dropHallucinations(input, env);

    // Assess
    expect(text(out.words ?? [])).toBe("see you next time");
    expect(dropped).toEqual({ silentWords: 0, loopWords: 20, loops: 1 });
  });

  it('keeps "no no no" and "very very very very" in speech', () => {
    // Prepare
    const words = [...said("no no no", 0.5), ...said("that is very very very very good", 2.0)];
    const env = envelope(6, [[0.5, 1.6], [2.0, 4.7]]);
    const input = answer(words, "No, no, no. That is very very very very good.", []);

    // Act
    const { answer: out, dropped } = dropHallucinations(input, env);

    // Assess
    expect(out).toBe(input);
    expect(dropped).toEqual({ silentWords: 0, loopWords: 0, loops: 0 });
  });

  it("collapses a sentence repeated 6 times in a text-only answer, in its spans and its text", () => {
    // Prepare
    const sentence = "Thanks for watching.";
    const spans: TextSpan[] = [
      { start: 0, end: 4, text: "That was the last slide." },
      ...Array.from({ length: 6 }, (_, k) => ({ start: 4 + k * 2, end: 6 + k * 2, text: sentence })),
    ];
    const fullText = spans.map((s) => s.text).join(" ");
    const input = answer(null, fullText, spans);

    // Act
    const { answer: out, dropped } = dropHallucinations(input);

    // Assess
    expect(out.words).toBeNull();
    expect(out.text).toBe("That was the last slide. Thanks for watching.");
    expect(out.spans).toEqual(spans.slice(0, 2));
    expect(dropped).toEqual({ silentWords: 0, loopWords: 15, loops: 1 });
  });

  it("collapses a loop inside one span's text and keeps what follows it", () => {
    // Prepare
    const input = answer(null, "I said go go go go go go go go and left", [{ start: 0, end: 5, text: "I said go go go go go go go go and left" }]);

    // Act
    const { answer: out } = dropHallucinations(input);

    // Assess
    expect(out.text).toBe("I said go and left");
    expect(out.spans[0].text).toBe("I said go and left");
  });

  it("without an envelope drops no word for silence and collapses only 4+ repeats", () => {
    // Prepare: the same timings that would be silent; a phrase x3, another x4, a word x5.
    const three = Array.from({ length: 3 }, (_, k) => said("come on now", 1 + k * 1.5)).flat();
    const four = Array.from({ length: 4 }, (_, k) => said("one more time", 6 + k * 1.5)).flat();
    const five = said("yeah yeah yeah yeah yeah", 13);
    const ghost = said("Thank you.", 18);
    const words = [...three, ...four, ...five, ...ghost];
    const input = answer(words, text(words), []);

    // Act
    const { answer: out, dropped } = dropHallucinations(input);

    // Assess
    expect(out.words).toEqual([...three, ...four.slice(0, 3), ...five, ...ghost]);
    expect(out.text).toBe(text([...three, ...four.slice(0, 3), ...five, ...ghost]));
    expect(dropped).toEqual({ silentWords: 0, loopWords: 9, loops: 1 });
  });

  it("drops a trailing partial repeat with the loop and keeps unspaced text unspaced", () => {
    // Prepare: Chinese text has no spaces between words.
    const words = [...said("谢谢 观看 谢谢 观看 谢谢 观看 谢谢 观看 谢谢", 0)];
    const input = answer(words, "谢谢观看谢谢观看谢谢观看谢谢观看谢谢", []);

    // Act
    const { answer: out, dropped } = dropHallucinations(input);

    // Assess
    expect(out.text).toBe("谢谢观看");
    expect(dropped.loopWords).toBe(7);
  });
});
