import { describe, expect, it } from "vitest";
import { channelCountProblem } from "../../shared/domain/channels/channel-names.js";
import { laneOf, mergeLanes, stitchChannels } from "../../shared/domain/channels/merge-lanes.js";
import { channelFilter, inLane } from "../../shared/domain/channels/lane-plan.js";
import { CutPlanner } from "../../shared/domain/cutting/plan-cuts.js";
import type { CutSegment, SegmentResult, Transcript, TranscriptWord } from "../../shared/domain/types.js";

function lane(words: Array<[string, number, number, string?]>): Transcript {
  const ws: TranscriptWord[] = words.map(([word, start, end, speaker]) => ({ word, start, end, speaker_id: speaker ?? null }));
  return {
    text: ws.map((w) => w.word).join(" "),
    language: "en",
    duration: 20,
    words: ws,
    segments: [],
    speakers: [...new Set(ws.flatMap((w) => (w.speaker_id ? [w.speaker_id] : [])))],
  };
}

describe("channel count against the file", () => {
  it("accepts names matching the channels and refuses a mono file with the reason", () => {
    expect(channelCountProblem(["agent", "caller"], 2)).toBeUndefined();
    expect(channelCountProblem(["agent", "caller"], 1)).toMatch(/^channels: the recording has 1 channel;/);
    expect(channelCountProblem(["a", "b"], 4)).toMatch(/has 4 channels but 2 names/);
  });
});

describe("merging lanes by time", () => {
  it("names each channel's words by its channel and keeps cross-talk from both sides, ordered by start", () => {
    // Prepare: the caller talks over the agent's last two words
    const agent = lane([["hello", 1, 1.4], ["how", 1.5, 1.7], ["are", 1.8, 2.0], ["you", 2.1, 2.4]]);
    const caller = lane([["sorry", 1.85, 2.2], ["hi", 2.3, 2.5], ["yes", 4, 4.3]]);

    // Act
    const merged = mergeLanes([agent, caller], ["agent", "caller"], 20);

    // Assess
    expect(merged.words.map((w) => `${w.word}:${w.speaker_id}`)).toEqual([
      "hello:SPEAKER_00", "how:SPEAKER_00", "are:SPEAKER_00", "sorry:SPEAKER_01", "you:SPEAKER_00", "hi:SPEAKER_01", "yes:SPEAKER_01",
    ]);
    expect(merged.words.find((w) => w.word === "sorry")).toMatchObject({ start: 1.85, end: 2.2 });
    expect(merged.speakers).toEqual(["SPEAKER_00", "SPEAKER_01"]);
    expect(merged.speaker_names).toEqual({ SPEAKER_00: "agent", SPEAKER_01: "caller" });
    expect(merged.segments.map((s) => s.speaker_id)).toEqual(["SPEAKER_00", "SPEAKER_01", "SPEAKER_00", "SPEAKER_01"]);
    expect(merged.text).toBe("hello how are sorry you hi yes");
  });

  it("numbers the voices of a diarized channel 'agent 1', 'agent 2' and keeps a silent channel's number", () => {
    // Prepare
    const agents = lane([["one", 1, 1.2, "SPEAKER_00"], ["two", 3, 3.2, "SPEAKER_01"]]);
    const silent = lane([]);
    const caller = lane([["three", 2, 2.2]]);

    // Act
    const merged = mergeLanes([agents, silent, caller], ["agent", "hold", "caller"], 20);

    // Assess
    expect(merged.words.map((w) => w.speaker_id)).toEqual(["SPEAKER_00", "SPEAKER_03", "SPEAKER_01"]);
    expect(merged.speaker_names).toEqual({ SPEAKER_00: "agent 1", SPEAKER_01: "agent 2", SPEAKER_03: "caller" });
  });
});

describe("segment plans per lane", () => {
  function plan(frames: Float32Array): CutSegment[] {
    const planner = new CutPlanner({ frameSeconds: 0.01, chunkSeconds: 20, overlapSeconds: 2 });
    return [...planner.push(frames), ...planner.finish()];
  }
  function envelope(seconds: number, quietAt: number[]): Float32Array {
    const frames = new Float32Array(seconds * 100).fill(-20);
    for (const at of quietAt) frames.fill(-70, at * 100 - 30, at * 100 + 30);
    return frames;
  }

  it("cuts each channel at its own quiet points, with indexes global across lanes", () => {
    // Prepare: the two channels are quiet at different moments
    const left = plan(envelope(50, [17, 35]));
    const right = plan(envelope(50, [19, 38]));

    // Act
    const lanes = [...left.map((s) => inLane(s, 0, 0)), ...right.map((s) => inLane(s, 1, left.length))];

    // Assess
    expect(lanes.map((s) => s.index)).toEqual(lanes.map((_, i) => i));
    expect(lanes.filter((s) => s.channel === 0)).toHaveLength(left.length);
    expect(left.slice(0, -1).map((s) => s.ownEnd)).not.toEqual(right.slice(0, -1).map((s) => s.ownEnd));
    expect(left[0].ownEnd).toBeCloseTo(17, 0);
    expect(right[0].ownEnd).toBeCloseTo(19, 0);
    expect(inLane(left[0], undefined, 5)).toBe(left[0]);
    expect(channelFilter(1)).toBe("pan=mono|c0=c1");
  });

  it("stitches each lane on its own and merges them", () => {
    // Prepare: two segments on each lane, the caller's second segment first in index order
    const seg = (index: number, channel: number, start: number, end: number): CutSegment & { channel: number } => ({
      index, channel, start, end, ownStart: start, ownEnd: end,
    });
    const result = (segment: CutSegment, words: Array<[string, number]>): SegmentResult => ({
      jobId: "j", index: segment.index, segment, text: words.map((w) => w[0]).join(" "), language: "en",
      words: words.map(([word, at]) => ({ word, start: at - segment.start, end: at - segment.start + 0.2 })), spans: [], speakers: [],
    });
    const results = [
      result(seg(0, 0, 0, 10), [["a", 1], ["b", 5]]),
      result(seg(1, 0, 10, 20), [["c", 11]]),
      result(seg(2, 1, 0, 12), [["x", 5.1]]),
      result(seg(3, 1, 12, 20), [["y", 13]]),
    ];

    // Act
    const transcript = stitchChannels(results, { duration: 20, names: ["agent", "caller"], diarize: false });

    // Assess
    expect(laneOf(results[2])).toBe(1);
    expect(transcript.words.map((w) => `${w.word}@${w.start}:${transcript.speaker_names![w.speaker_id!]}`)).toEqual([
      "a@1:agent", "b@5:agent", "x@5.1:caller", "c@11:agent", "y@13:caller",
    ]);
    expect(transcript.language).toBe("en");
  });
});

describe("channels= in the job options", () => {
  it("reads the names, turns diarization off unless diarize=true is given, and keeps the job apart", async () => {
    const { parseJobOptions, canonicalOptions, storedJobOptions } = await import("../../shared/domain/options/options.js");
    // Act
    const plain = parseJobOptions({ channels: " agent , caller " });
    const diarized = parseJobOptions({ channels: "agent,caller", diarize: "true" });
    const mono = parseJobOptions({});

    // Assess
    expect(plain).toMatchObject({ ok: true, options: { channels: ["agent", "caller"], diarize: false } });
    expect(diarized).toMatchObject({ ok: true, options: { channels: ["agent", "caller"], diarize: true } });
    expect(mono).toMatchObject({ ok: true, options: { diarize: true } });
    expect(mono.ok && "channels" in mono.options).toBe(false);
    if (!plain.ok || !mono.ok) throw new Error("unreachable");
    expect(canonicalOptions(plain.options)).not.toBe(canonicalOptions(mono.options));
    expect(storedJobOptions(JSON.parse(JSON.stringify(plain.options))).channels).toEqual(["agent", "caller"]);
  });

  it("refuses one name, nine, a repeated or a bad name, and speakers= beside it, with reasons", async () => {
    const { parseJobOptions } = await import("../../shared/domain/options/options.js");
    const reason = (metadata: Record<string, string>) => {
      const parsed = parseJobOptions(metadata);
      return parsed.ok ? "" : parsed.reason;
    };
    expect(reason({ channels: "agent" })).toMatch(/channels: name 2 to 8 channels/);
    expect(reason({ channels: "a,b,c,d,e,f,g,h,i" })).toMatch(/not 9/);
    expect(reason({ channels: "agent,Agent" })).toMatch(/'Agent' is named twice/);
    expect(reason({ channels: "agent,ca ller" })).toMatch(/'ca ller' is not a channel name/);
    expect(reason({ channels: "agent,caller", speakers: "alice" })).toMatch(/speakers cannot be set with channels/);
  });
});

describe("decoding one channel, and the --channels flag", () => {
  it("takes one channel with a pan filter and leaves the mono mixdown's arguments as they were", async () => {
    const { decodeArgs } = await import("../../shared/audio/decode-pcm.js");
    const mono = decodeArgs("/tmp/a.wav", { demuxer: "wav" });
    const right = decodeArgs("/tmp/a.wav", { demuxer: "wav", channel: 1 });
    expect(mono.slice(mono.indexOf("-map"), mono.indexOf("-ar"))).toEqual(["-map", "0:a:0", "-vn", "-ac", "1"]);
    expect(right.slice(right.indexOf("-map"), right.indexOf("-ar"))).toEqual(["-map", "0:a:0", "-vn", "-af", "pan=mono|c0=c1"]);
    expect(right.filter((arg) => !["-af", "pan=mono|c0=c1"].includes(arg))).toEqual(mono.filter((arg) => !["-ac", "1"].includes(arg)));
  });

  it("sends --channels as the channels= metadata key and refuses a bad one before uploading", async () => {
    const { flagsToMetadata, optionProblem } = await import("../../cli/transcribe-options.js");
    expect(flagsToMetadata({ channels: "agent,caller" })).toEqual({ channels: "agent,caller" });
    expect(optionProblem({ channels: "agent,caller" }, "openai/whisper-large-v3")).toBeUndefined();
    expect(optionProblem({ channels: "agent" }, "openai/whisper-large-v3")).toMatch(/channels: name 2 to 8 channels/);
  });
});

describe("a channel job run again", () => {
  it("keeps its channels and its diarization choice through the rerun metadata", async () => {
    const { parseJobOptions } = await import("../../shared/domain/options/options.js");
    const { optionsToMetadata } = await import("../../shared/pipeline/rerun-job.js");
    const cases: Array<Record<string, string>> = [{ channels: "agent,caller" }, { channels: "agent,caller", diarize: "true" }];
    for (const metadata of cases) {
      const first = parseJobOptions(metadata);
      if (!first.ok) throw new Error(first.reason);
      expect(parseJobOptions(optionsToMetadata(first.options))).toEqual(first);
    }
  });
});
