/**
 * Speakers' names through the pipeline, on in-memory adapters: the stitcher naming enrolled voices
 * (shared/pipeline/stitch-job.ts), a rename afterwards (shared/pipeline/rename-speaker.ts), and the
 * recent-jobs listing of the job table.
 */
import { afterEach, describe, expect, it } from "vitest";
import { keys } from "../../shared/adapters/object-store.js";
import { emptyBook, type SpeakerBook } from "../../shared/domain/speakers/speaker-book.js";
import { OUTPUT_FORMATS, type Transcript } from "../../shared/domain/types.js";
import { renameSpeaker } from "../../shared/pipeline/rename-speaker.js";
import { OUTPUT_FILES, stitchJob } from "../../shared/pipeline/stitch-job.js";
import { wordsEverySecond } from "../support/fake-provider.js";
import { cutSegments, JOB_ID, jobOptions, jobRecord, segmentResult } from "../support/job-fixtures.js";
import { memoryPipeline, type MemoryPipeline, type MemoryPipelineOptions } from "../support/memory-context.js";

let pipeline: MemoryPipeline;
afterEach(() => pipeline?.dispose());

const segments = cutSegments(2);
const json = (value: unknown) => ({ body: Buffer.from(JSON.stringify(value)), contentType: "application/json" });

/**
 * A diarized job ready to stitch: segment 0's A says a0..a4 (voice V0), segment 1's B says b0..b4 (voice V1),
 * with the book's `names` as given.
 */
function settledJob(names?: SpeakerBook["names"], options: MemoryPipelineOptions = {}): MemoryPipeline {
  pipeline = memoryPipeline(options);
  pipeline.jobs.put(jobRecord({ options: { ...jobOptions({ diarize: true }) }, doneSegments: new Set([0, 1]), speakersSettled: 2 }));
  pipeline.work.objects.set(keys.segmentResult(JOB_ID, 0), json(segmentResult(segments[0], wordsEverySecond(5, { from: 10, prefix: "a", speaker: "A" }))));
  pipeline.work.objects.set(keys.segmentResult(JOB_ID, 1), json(segmentResult(segments[1], wordsEverySecond(5, { from: 12, prefix: "b", speaker: "B" }))));
  const book: SpeakerBook = {
    ...emptyBook(),
    settled: 2,
    map: { 0: { A: "V0" }, 1: { B: "V1" } },
    voices: [
      { id: "V0", spans: [], seconds: 4 },
      { id: "V1", spans: [], seconds: 4 },
    ],
    ...(names ? { names } : {}),
  };
  pipeline.work.objects.set(keys.speakerBook(JOB_ID, 2), json(book));
  return pipeline;
}

/** Every output file's text, by format. */
function outputs(p: MemoryPipeline): Record<string, string | undefined> {
  return Object.fromEntries(OUTPUT_FORMATS.map((format) => [format, p.output.text(keys.output(JOB_ID, OUTPUT_FILES[format].file))]));
}

describe("stitchJob with enrolled speakers", () => {
  it("names the labels of named voices in every output, the utterances, the record and the notification", async () => {
    // Prepare: V0 is Ada; V1 was checked and is nobody enrolled
    const { ctx, jobs, notifier, output, log } = settledJob({ V0: "Ada", V1: null });

    // Act
    await stitchJob(ctx, JOB_ID);

    // Assess
    const transcript = output.json<Transcript & { words: Array<{ speaker_name?: string }> }>(keys.output(JOB_ID, "transcript.verbose.json"));
    expect(transcript.speaker_names).toEqual({ SPEAKER_00: "Ada" });
    expect(transcript.words[0]).toMatchObject({ speaker_id: "SPEAKER_00", speaker_name: "Ada" });
    expect(transcript.words[5]).not.toHaveProperty("speaker_name");
    expect(outputs(pipeline).text).toBe("Ada: a0 a1 a2 a3 a4\nSPEAKER_01: b0 b1 b2 b3 b4\n");
    expect((await jobs.utterances(JOB_ID)).map((u) => [u.speaker_id, u.speaker_name])).toEqual([
      ["SPEAKER_00", "Ada"],
      ["SPEAKER_01", undefined],
    ]);
    expect(jobs.peek(JOB_ID)?.speakerNames).toEqual({ SPEAKER_00: "Ada" });
    expect(notifier.events).toMatchObject([{ event: "JOB_ENDED", status: "COMPLETED", speakerNames: { SPEAKER_00: "Ada" } }]);
    // ... and no name in the logs
    expect(JSON.stringify(log.lines)).not.toContain("Ada");
  });

  it("makes two labels of one enrolled person one label", async () => {
    // Prepare: the settlers kept two voices apart that are both Ada
    const { ctx, jobs, output } = settledJob({ V0: "Ada", V1: "Ada" });

    // Act
    await stitchJob(ctx, JOB_ID);

    // Assess
    const transcript = output.json<Transcript>(keys.output(JOB_ID, "transcript.verbose.json"));
    expect(transcript.speakers).toEqual(["SPEAKER_00"]);
    expect(new Set(transcript.words.map((w) => w.speaker_id))).toEqual(new Set(["SPEAKER_00"]));
    expect(jobs.peek(JOB_ID)).toMatchObject({ speakers: ["SPEAKER_00"], speakerNames: { SPEAKER_00: "Ada" } });
  });

  it("writes an empty name map for a job without enrolled speakers", async () => {
    // Prepare
    const { ctx, jobs, notifier } = settledJob();
    // Act
    await stitchJob(ctx, JOB_ID);
    // Assess
    expect(jobs.peek(JOB_ID)?.speakerNames).toEqual({});
    expect(notifier.events[0]).toMatchObject({ event: "JOB_ENDED", speakerNames: {} });
    expect(outputs(pipeline).text).toBe("SPEAKER_00: a0 a1 a2 a3 a4\nSPEAKER_01: b0 b1 b2 b3 b4\n");
  });
});

/** A completed two-speaker job (SPEAKER_00 says a0..a4, SPEAKER_01 b0..b4), its notification heard. */
async function completedJob(options: MemoryPipelineOptions = {}): Promise<MemoryPipeline> {
  const p = settledJob(undefined, options);
  await stitchJob(p.ctx, JOB_ID);
  p.notifier.events.length = 0;
  return p;
}

describe("renameSpeaker", () => {
  it("names the speaker on the record, in every output and utterance, and announces TRANSCRIPT_CHANGED", async () => {
    // Prepare
    const p = await completedJob();
    const before = outputs(p);

    // Act
    const record = await renameSpeaker(p.ctx, JOB_ID, "SPEAKER_01", "  Grace Hopper ");

    // Assess: the record
    expect(record).toMatchObject({ speakerNames: { SPEAKER_01: "Grace Hopper" }, transcriptRevision: 1 });
    expect(p.jobs.peek(JOB_ID)).toMatchObject({ speakerNames: { SPEAKER_01: "Grace Hopper" }, transcriptRevision: 1 });
    // ... every output
    const after = outputs(p);
    expect(after.text).toBe("SPEAKER_00: a0 a1 a2 a3 a4\nGrace Hopper: b0 b1 b2 b3 b4\n");
    expect(after.srt).toContain("Grace Hopper: b0");
    expect(after.vtt).toContain("<v Grace Hopper>b0");
    expect(JSON.parse(after.verbose_json!).speaker_names).toEqual({ SPEAKER_01: "Grace Hopper" });
    expect(after.json).toBe(before.json);
    // ... the utterances
    expect((await p.jobs.utterances(JOB_ID)).map((u) => u.speaker_name)).toEqual([undefined, "Grace Hopper"]);
    // ... the notification, and no name in the logs
    expect(p.notifier.events).toMatchObject([
      { event: "TRANSCRIPT_CHANGED", jobId: JOB_ID, status: "COMPLETED", speakerNames: { SPEAKER_01: "Grace Hopper" }, transcriptRevision: 1 },
    ]);
    expect(JSON.stringify(p.log.lines)).not.toContain("Grace");
  });

  it("goes back to the label with null, leaving outputs as the stitcher wrote them", async () => {
    // Prepare
    const p = await completedJob();
    const original = outputs(p);
    const originalUtterances = await p.jobs.utterances(JOB_ID);
    await renameSpeaker(p.ctx, JOB_ID, "SPEAKER_00", "Ada");

    // Act
    const record = await renameSpeaker(p.ctx, JOB_ID, "SPEAKER_00", null);

    // Assess
    expect(record).toMatchObject({ speakerNames: {}, transcriptRevision: 2 });
    expect(outputs(p)).toEqual(original);
    expect(await p.jobs.utterances(JOB_ID)).toEqual(originalUtterances);
    expect(p.notifier.events.map((e) => [e.event, e.transcriptRevision])).toEqual([
      ["TRANSCRIPT_CHANGED", 1],
      ["TRANSCRIPT_CHANGED", 2],
    ]);
  });

  it("refuses a bad name, an unknown speaker, a job that is not completed or does not exist, and writes nothing", async () => {
    // Prepare
    const p = await completedJob();
    const writes = p.output.writes.length;

    // Act + Assess
    await expect(renameSpeaker(p.ctx, JOB_ID, "SPEAKER_00", "   ")).rejects.toMatchObject({ kind: "permanent", code: "bad_name" });
    await expect(renameSpeaker(p.ctx, JOB_ID, "SPEAKER_00", "x".repeat(65))).rejects.toMatchObject({ code: "bad_name" });
    await expect(renameSpeaker(p.ctx, JOB_ID, "SPEAKER_00", "Ada\u0007")).rejects.toMatchObject({ code: "bad_name" });
    await expect(renameSpeaker(p.ctx, JOB_ID, "SPEAKER_09", "Ada")).rejects.toMatchObject({
      code: "unknown_speaker",
      message: expect.stringContaining("SPEAKER_00, SPEAKER_01"),
    });
    await expect(renameSpeaker(p.ctx, "no-such-job", "SPEAKER_00", "Ada")).rejects.toMatchObject({ code: "job_not_found" });
    p.jobs.put({ ...p.jobs.peek(JOB_ID)!, jobId: "running-job", status: "RUNNING" });
    await expect(renameSpeaker(p.ctx, "running-job", "SPEAKER_00", "Ada")).rejects.toMatchObject({ code: "job_not_completed" });
    expect(p.output.writes.length).toBe(writes);
    expect(p.jobs.peek(JOB_ID)?.transcriptRevision).toBeUndefined();
    expect(p.notifier.events).toEqual([]);
  });

  it("leaves the record alone when the stored transcript is gone", async () => {
    // Prepare
    const p = await completedJob();
    p.output.objects.delete(keys.output(JOB_ID, "transcript.verbose.json"));
    // Act
    const attempt = renameSpeaker(p.ctx, JOB_ID, "SPEAKER_00", "Ada");
    // Assess
    await expect(attempt).rejects.toMatchObject({ kind: "permanent", code: "transcript_missing" });
    expect(p.jobs.peek(JOB_ID)).not.toHaveProperty("transcriptRevision");
    expect(p.jobs.peek(JOB_ID)?.speakerNames).toEqual({});
  });

  it("ends with outputs that match the record when two renames race", async () => {
    // Prepare: the first rename stalls after its record write, until a second one has finished entirely
    let second: Promise<unknown> | undefined;
    const p = await completedJob({
      checkpoint: async (step) => {
        if (step === "rename:before-outputs" && second === undefined) {
          second = renameSpeaker(p.ctx, JOB_ID, "SPEAKER_01", "Grace");
          await second;
        }
      },
    });

    // Act: the first rename writes its (by now stale) revision last, then finds the newer one
    const first = await renameSpeaker(p.ctx, JOB_ID, "SPEAKER_00", "Ada");

    // Assess
    expect(p.jobs.peek(JOB_ID)).toMatchObject({ speakerNames: { SPEAKER_00: "Ada", SPEAKER_01: "Grace" }, transcriptRevision: 2 });
    expect(first.transcriptRevision).toBe(2);
    expect(outputs(p).text).toBe("Ada: a0 a1 a2 a3 a4\nGrace: b0 b1 b2 b3 b4\n");
    expect((await p.jobs.utterances(JOB_ID)).map((u) => u.speaker_name)).toEqual(["Ada", "Grace"]);
    expect(p.log.lines.find((l) => l.message === "speaker renamed" && l.attributes.speakerId === "SPEAKER_00")?.attributes.renderRounds).toBe(2);
  });

  it("renders a job completed before speakers had names", async () => {
    // Prepare: a record without speakerNames, a verbose_json without speaker_names
    const p = await completedJob();
    const { speakerNames: _none, ...old } = p.jobs.peek(JOB_ID)!;
    p.jobs.put(old);
    const verboseKey = keys.output(JOB_ID, "transcript.verbose.json");
    const verbose = p.output.json<Record<string, unknown>>(verboseKey);
    delete verbose.speaker_names;
    await p.output.put(verboseKey, JSON.stringify(verbose), "application/json");

    // Act
    await renameSpeaker(p.ctx, JOB_ID, "SPEAKER_00", "Ada");

    // Assess
    expect(outputs(p).text).toBe("Ada: a0 a1 a2 a3 a4\nSPEAKER_01: b0 b1 b2 b3 b4\n");
  });
});

describe("recentJobs", () => {
  it("lists jobs newest first, up to the limit, optionally in one state", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const { jobs } = pipeline;
    const created = ["2026-01-01T00:00:01.000Z", "2026-01-01T00:00:03.000Z", "2026-01-01T00:00:02.000Z"];
    for (const [i, at] of created.entries()) await jobs.create({ jobId: `job-${i}`, source: { bucket: "b", key: `k${i}` }, options: {} }, new Date(at));
    await jobs.fail("job-2", "broken", "bad", new Date());

    // Act
    const newest = await jobs.recentJobs({ limit: 2 });
    const failed = await jobs.recentJobs({ limit: 5, status: "FAILED" });
    const chunking = await jobs.recentJobs({ limit: 5, status: "CHUNKING" });

    // Assess
    expect(newest.map((j) => j.jobId)).toEqual(["job-1", "job-2"]);
    expect(failed.map((j) => j.jobId)).toEqual(["job-2"]);
    expect(chunking.map((j) => j.jobId)).toEqual(["job-1", "job-0"]);
  });
});
