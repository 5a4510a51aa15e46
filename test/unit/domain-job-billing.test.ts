import { describe, expect, it } from "vitest";
import { jobCost } from "../../shared/domain/jobs/job-billing.js";
import { earlyVotes } from "../../shared/domain/speakers/early-votes.js";
import { settleSpeakers, type AskDiarizer } from "../../shared/domain/speakers/settle-speakers.js";
import { emptyBook, type SpeakerBook } from "../../shared/domain/speakers/speaker-book.js";
import type { CutSegment, SegmentResult } from "../../shared/domain/types.js";
import { cutScript, fakeDiarizer, scriptWords } from "../support/fake-diarizer.js";

const segment = (index: number, start: number, end: number): CutSegment => ({ index, start, end, ownStart: start, ownEnd: end });

/** A fake diarizer that reports the clip as sent: `padding` seconds longer than the plan, like the settler's clips. */
function padded(ask: AskDiarizer, padding: number): AskDiarizer {
  return async (plan) => ({ ...(await ask(plan)), audioSeconds: plan.duration + padding });
}

describe("jobCost", () => {
  it("sums the segment requests and the probes the last speaker book counted", () => {
    // Prepare: three segments of 30 s with 4 s of overlap, one stored before results kept their seconds
    const results = [
      { segment: segment(0, 0, 32), audioSeconds: 32 },
      { segment: segment(1, 28, 62), audioSeconds: 34 },
      { segment: segment(2, 58, 75.5) },
    ];
    const book: Pick<SpeakerBook, "probes"> = { probes: { requests: 5, seconds: 61.2345 } };

    // Act
    const cost = jobCost(results, book);

    // Assess
    expect(cost.billing).toEqual({ segmentSeconds: 83.5, segmentRequests: 3, probeSeconds: 61.235, probeRequests: 5, overlapSeconds: 0 });
    expect(cost.audioSecondsBilled).toBe(144.735);
  });

  it("counts no probes for a job that settles no speakers", () => {
    // Act
    const cost = jobCost([{ segment: segment(0, 0, 20), audioSeconds: 20 }]);

    // Assess
    expect(cost).toEqual({ audioSecondsBilled: 20, billing: { segmentSeconds: 20, segmentRequests: 1, probeSeconds: 0, probeRequests: 0, overlapSeconds: 0 } });
  });

  it("gives the same figures for the same stored results, in any order: nothing is added per delivery", () => {
    // Prepare
    const results: Array<Pick<SegmentResult, "segment" | "audioSeconds">> = Array.from({ length: 7 }, (_, i) => ({
      segment: segment(i, i * 30 - (i ? 2 : 0), i * 30 + 32),
      audioSeconds: i ? 34.0001 : 32.0001,
    }));

    // Act
    const once = jobCost(results, { probes: { requests: 3, seconds: 12.1 } });
    const reversed = jobCost([...results].reverse(), { probes: { requests: 3, seconds: 12.1 } });

    // Assess: rounded to the millisecond, stable
    expect(reversed).toEqual(once);
    expect(once.billing.segmentSeconds).toBe(236.001);
    expect(once.audioSecondsBilled).toBe(248.101);
  });
});

describe("probe seconds in the speaker book", () => {
  // Two voices, no overlap: every segment after the first is settled by probes.
  const words = scriptWords(Array.from({ length: 40 }, (_, i): [string, number] => [i % 3 ? "A" : "B", 4]));
  const script = cutScript(words, 15, 0);

  it("adds each step's probes and the early votes it read to the book before it", async () => {
    // Prepare: settle in two steps, as segments would finish; the second step read early votes worth 2 requests
    const diarizer = fakeDiarizer(script, words);
    const ask = padded(diarizer.ask, 0.12);
    const half = Math.floor(script.results.length / 2);

    // Act
    const first = await settleSpeakers(emptyBook(), script.results.slice(0, half), ask);
    const second = await settleSpeakers(first.book, script.results.slice(half - 1), ask, {
      priorProbes: { requests: 2, seconds: 9.5 },
    });

    // Assess: the reports count what was sent (clip with padding), the book carries the running total
    expect(first.report.probes + second.report.probes).toBeGreaterThan(0);
    expect(diarizer.asks()).toBe(first.report.probes + second.report.probes);
    expect(first.book.probes).toEqual({ requests: first.report.probes, seconds: first.report.probeSeconds });
    expect(second.book.probes.requests).toBe(first.report.probes + 2 + second.report.probes);
    expect(second.book.probes.seconds).toBeCloseTo(first.report.probeSeconds + 9.5 + second.report.probeSeconds, 9);
  });

  it("counts the audio the provider was sent, and nothing for a clip that never left", async () => {
    // Prepare: one diarizer whose clips are 0.12 s longer than their plans, one whose clips cannot be made
    const sent = fakeDiarizer(script, words);
    let planned = 0;
    const measured: AskDiarizer = async (plan) => {
      planned += plan.duration;
      return sent.ask(plan).then((answer) => ({ ...answer, audioSeconds: plan.duration + 0.12 }));
    };
    const unsent: AskDiarizer = async () => ({ failed: "segment audio could not be read", audioSeconds: 0 });

    // Act
    const { report } = await settleSpeakers(emptyBook(), script.results, measured);
    const none = await settleSpeakers(emptyBook(), script.results, unsent);

    // Assess
    expect(report.probes).toBeGreaterThan(0);
    expect(report.probeSeconds).toBeCloseTo(planned + 0.12 * report.probes, 9);
    expect(none.report).toMatchObject({ probes: 0, probeSeconds: 0 });
    expect(none.book.probes).toEqual({ requests: 0, seconds: 0 });
  });

  it("counts early votes by the clips they sent", async () => {
    // Prepare: the book after the first segment, then segment 1's voices asked early
    const diarizer = fakeDiarizer(script, words);
    const { book } = await settleSpeakers(emptyBook(), script.results.slice(0, 1), diarizer.ask);
    let planned = 0;
    const ask: AskDiarizer = async (plan) => {
      planned += plan.duration;
      return { ...(await diarizer.ask(plan)), audioSeconds: plan.duration + 0.12 };
    };

    // Act
    const found = await earlyVotes(book, script.results.slice(0, 2), 1, ask);

    // Assess
    expect(found.probes).toBeGreaterThan(0);
    expect(found.probeSeconds).toBeCloseTo(planned + 0.12 * found.probes, 9);
  });
});
