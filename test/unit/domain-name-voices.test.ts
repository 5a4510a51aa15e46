import { describe, expect, it } from "vitest";
import { decideName, nameVoices, NOBODY, type EnrolledRef } from "../../shared/domain/speakers/name-voices.js";
import { emptyBook, type SpeakerBook } from "../../shared/domain/speakers/speaker-book.js";
import type { AskDiarizer } from "../../shared/domain/speakers/settle-speakers.js";
import type { ProbePiece, ProbePlan } from "../../shared/domain/speakers/probe-plan.js";
import type { Word } from "../../shared/domain/types.js";

/** Book voices V0.. whose clips are the given true people; enrolled refs whose clips are theirs. */
function setup(voices: string[], enrolled: Record<string, string>) {
  const book: SpeakerBook = emptyBook();
  const person = new Map<string, string>();
  voices.forEach((who, i) => {
    const id = `V${i}`;
    book.voices.push({ id, seconds: 30, spans: [0, 1, 2, 3].map((n) => ({ from: { voice: `${id}-00001` }, start: n * 2, end: n * 2 + 1.5 })) });
    person.set(`${id}-00001`, who);
  });
  const refs: EnrolledRef[] = Object.entries(enrolled).map(([name, who]) => {
    person.set(`clip-${name}`, who);
    return { name, spans: [0, 1, 2, 3].map((n) => ({ from: { enrolled: `clip-${name}` }, start: n * 2, end: n * 2 + 1.5 })) };
  });
  return { book, refs, person };
}

type Hearing = (piece: ProbePiece, n: number, ask: number) => string | null | "true";

/** A diarizer that labels each piece by its true person, unless `hear` says otherwise (null: unheard; a label: that one). */
function fakeDiarizer(person: Map<string, string>, hear: Hearing = () => "true"): AskDiarizer & { asks: number } {
  const ask = (async (plan: ProbePlan) => {
    ask.asks++;
    const words: Word[] = [];
    plan.pieces.forEach((piece, n) => {
      const from = piece.span.from as { voice?: string; enrolled?: string };
      const who = person.get(from.voice ?? from.enrolled ?? "")!;
      const heard = hear(piece, n, ask.asks);
      if (heard === null) return;
      words.push({ word: "w", start: piece.at + 0.1, end: piece.at + 0.5, speaker: heard === "true" ? `L-${who}` : heard });
    });
    return { words, audioSeconds: plan.duration };
  }) as unknown as AskDiarizer & { asks: number };
  ask.asks = 0;
  return ask;
}

describe("nameVoices: enrolled voices named by probe clips", () => {
  it("names the enrolled voices present and finds nobody for the others, in one probe", async () => {
    // Prepare
    const { book, refs, person } = setup(["ann", "ben", "cid"], { alice: "ann", bob: "ben", carol: "dee" });
    const ask = fakeDiarizer(person);

    // Act
    const { book: named, report } = await nameVoices(book, refs, ask, { final: false });

    // Assess
    expect(named.names).toEqual({ V0: "alice", V1: "bob", V2: null });
    expect(report).toMatchObject({ named: 2, nobody: 1, undecided: 0, probes: 1 });
    expect(named.probes.requests).toBe(1);
    expect(named.probes.seconds).toBeGreaterThan(0);
    expect(book.names).toBeUndefined();
  });

  it("still names a voice when one of its pieces goes unheard", async () => {
    // Prepare
    const { book, refs, person } = setup(["ann", "ben"], { alice: "ann", bob: "ben" });
    const ask = fakeDiarizer(person, (piece) => (piece.speaker === "head:V0" && piece.span.start === 0 ? null : "true"));

    // Act
    const { book: named } = await nameVoices(book, refs, ask, { final: false });

    // Assess
    expect(named.names).toEqual({ V0: "alice", V1: "bob" });
  });

  it("asks again, with other pieces, when a confused piece leaves a voice unclear", async () => {
    // Prepare: in the first ask, one of V0's pieces is heard as bob's and another is unheard.
    const { book, refs, person } = setup(["ann", "ben"], { alice: "ann", bob: "ben" });
    const ask = fakeDiarizer(person, (piece, _n, asks) => {
      if (asks > 1 || piece.speaker !== "head:V0") return "true";
      return piece.span.start === 0 ? "L-ben" : piece.span.start === 2 ? null : "true";
    });

    // Act
    const { book: named, report } = await nameVoices(book, refs, ask, { final: false });

    // Assess: 1 for alice, 1 for bob after the first ask (undecided); the second ask adds 3 for alice
    expect(named.names?.V0).toBe("alice");
    expect(named.naming?.V0.asks).toBe(2);
    expect(report.probes).toBe(2);
  });

  it("never names an enrolled voice when the refs themselves come back confused", async () => {
    // Prepare: the diarizer puts everything of ben with ann's label: alice and bob share a label.
    const { book, refs, person } = setup(["ben"], { alice: "ann", bob: "ben" });
    const ask = fakeDiarizer(person, (piece) => (piece.speaker === "ref:alice" || piece.speaker === "ref:bob" || piece.speaker === "head:V0" ? "L-x" : "true"));

    // Act
    const { book: named, report } = await nameVoices(book, refs, ask, { final: false, roundsPerStep: 2 });

    // Assess: undecided, kept for the next step with its votes
    expect(named.names).toEqual({});
    expect(report.undecided).toBe(1);
    expect(named.naming?.V0.asks).toBe(2);
  });

  it("leaves a voice still undecided at the job's last step unnamed, with a note", async () => {
    // Prepare
    const { book, refs, person } = setup(["ben"], { alice: "ann", bob: "ben" });
    const ask = fakeDiarizer(person, () => null);

    // Act
    const { book: named } = await nameVoices(book, refs, ask, { final: true });

    // Assess
    expect(named.names).toEqual({ V0: null });
    expect(named.notes.join(" ")).toContain("left unnamed");
    expect(named.notes.join(" ")).not.toContain("bob");
  });

  it("asks a voice still unclear again at the job's last step, until its asks run out", async () => {
    // Prepare: the first two asks leave V0 unheard; the next ones hear it
    const { book, refs, person } = setup(["ann"], { alice: "ann" });
    const ask = fakeDiarizer(person, (piece, _n, asks) => (asks <= 2 && piece.role === "head" ? null : "true"));

    // Act
    const { book: named, report } = await nameVoices(book, refs, ask, { final: true });

    // Assess
    expect(named.names).toEqual({ V0: "alice" });
    expect(report.probes).toBe(3);
    expect(named.namingProbes?.requests).toBe(3);
  });

  it("does not name a voice from the same two pieces heard again and again", async () => {
    // Prepare: V0 has two pieces only; the diarizer puts them with alice every time
    const { book, refs, person } = setup(["ann"], { alice: "ann" });
    book.voices[0].spans = book.voices[0].spans.slice(0, 2);

    // Act
    const { book: named } = await nameVoices(book, refs, fakeDiarizer(person), { final: true });

    // Assess
    expect(named.names).toEqual({ V0: null });
    expect(named.naming?.V0.pieces?.alice).toHaveLength(2);
  });

  it("asks nothing about voices already named", async () => {
    // Prepare
    const { book, refs, person } = setup(["ann"], { alice: "ann" });
    book.names = { V0: "alice" };
    const ask = fakeDiarizer(person);

    // Act
    const { book: named, report } = await nameVoices(book, refs, ask, { final: true });

    // Assess
    expect(ask.asks).toBe(0);
    expect(report.probes).toBe(0);
    expect(named.names).toEqual({ V0: "alice" });
  });

  it("a failed probe counts as an ask and decides nothing", async () => {
    // Prepare
    const { book, refs } = setup(["ann"], { alice: "ann" });
    const ask: AskDiarizer = async () => ({ failed: "provider 503", audioSeconds: 4 });

    // Act
    const { book: named, report } = await nameVoices(book, refs, ask, { final: false, roundsPerStep: 1 });

    // Assess
    expect(named.names).toEqual({});
    expect(report).toMatchObject({ undecided: 1, probes: 1, probeSeconds: 4 });
    expect(named.notes).toEqual(["a naming probe failed: provider 503"]);
  });
});

describe("decideName", () => {
  it("needs three agreeing votes for a name, two for nobody, three to one over the rest", () => {
    expect(decideName({ alice: 3 })).toBe("alice");
    expect(decideName({ alice: 2 })).toBeUndefined();
    expect(decideName({ [NOBODY]: 2 })).toBeNull();
    expect(decideName({ alice: 2, bob: 1 })).toBeUndefined();
    expect(decideName({ alice: 3, bob: 1 })).toBe("alice");
    expect(decideName({ [NOBODY]: 2, alice: 1 })).toBeUndefined();
    expect(decideName({ alice: 2, bob: 2 })).toBeUndefined();
    expect(decideName({ alice: 2, "#unclear": 2 })).toBeUndefined();
    expect(decideName({ [NOBODY]: 3 })).toBeNull();
    expect(decideName({ [NOBODY]: 2, alice: 2 })).toBeUndefined();
    // "nobody" weighs double against a name
    expect(decideName({ alice: 3, [NOBODY]: 1 })).toBeUndefined();
    expect(decideName({ alice: 6, [NOBODY]: 1 })).toBe("alice");
  });
});
