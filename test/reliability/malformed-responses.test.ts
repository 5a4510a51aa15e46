/**
 * Broken-but-200 provider answers: each ends the job the way a user would expect (a FAILED record with a
 * reason, or a transcript of what is valid), never a crashed batch or a job that waits forever.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation, type Recording } from "../audio/conversation.js";
import { encodeToBytes } from "../audio/write-audio.js";
import type { MalformedKind } from "../provider/options.js";
import type { JobRecord } from "../../shared/adapters/job-store.js";
import { Rig, wordLoss } from "./support.js";

const GROUP = "Malformed responses";
const MAX_RECEIVES = 3;

let rig: Rig;

beforeAll(async () => {
  rig = await Rig.start("malformed-responses", {
    chunkSeconds: 20,
    overlapSeconds: 4,
    transcriberConcurrency: 4,
    // Short, so an answer that is broken on every delivery reaches the DLQ quickly.
    visibilityTimeoutSeconds: 3,
    maxReceiveCount: MAX_RECEIVES,
    providerClient: { maxAttempts: 3, backoffBaseMs: 20, backoffMaxMs: 100 },
  });
});

afterAll(async () => {
  await rig?.close();
});

async function run(recording: Recording, key: string): Promise<{ job: JobRecord; lost?: number; extra?: number }> {
  rig.provider.addRecording(recording);
  await rig.upload(key, await encodeToBytes(recording, "mp3"));
  const job = await rig.settle(key, 90_000);
  if (job.status !== "COMPLETED") return { job };
  const loss = wordLoss(recording.words, await rig.transcript(job));
  return { job, lost: loss.lost, extra: loss.extra };
}

/** What a user should get from each kind of broken answer, when every answer of the job is broken that way. */
const EXPECTED: Record<MalformedKind, { status: "COMPLETED" | "FAILED"; says: string; check: (r: { job: JobRecord; lost?: number; extra?: number }, words: number) => void }> = {
  "invalid-json": {
    status: "FAILED",
    says: "FAILED via the DLQ, reason names the bad body",
    check: ({ job }) => {
      expect(job.errorCode).toBe("dead_lettered");
      expect(job.error).toContain("not JSON");
    },
  },
  "missing-words": {
    status: "COMPLETED",
    says: "COMPLETED from the text (no word times)",
    check: ({ extra }) => expect(extra).toBe(0),
  },
  "times-outside": {
    status: "COMPLETED",
    says: "COMPLETED; a word placed after the audio's end is dropped unless a neighbour heard it",
    check: ({ lost, extra }, words) => {
      expect(extra).toBe(0);
      expect(lost).toBeLessThanOrEqual(Math.ceil(words / 10));
    },
  },
  "negative-times": {
    status: "COMPLETED",
    says: "COMPLETED, times clamped, every word once",
    check: ({ lost, extra }) => expect({ lost, extra }).toEqual({ lost: 0, extra: 0 }),
  },
  "reversed-times": {
    status: "COMPLETED",
    says: "COMPLETED, times repaired, every word once",
    check: ({ lost, extra }) => expect({ lost, extra }).toEqual({ lost: 0, extra: 0 }),
  },
  "empty-text": {
    status: "FAILED",
    says: "FAILED via the DLQ: no text for audio that holds seconds of sound is a provider failure, not silence",
    check: ({ job }) => {
      expect(job.errorCode).toBe("dead_lettered");
      expect(job.error).toContain("no text for segment");
    },
  },
};

describe("malformed or odd provider answers", () => {
  const kinds = Object.keys(EXPECTED) as MalformedKind[];
  for (const [n, kind] of kinds.entries()) {
    it(`${kind} on every answer: ${EXPECTED[kind].says}`, async () => {
      // Prepare
      rig.provider.configure({ malformed: [kind], malformedRate: 1 });
      rig.provider.resetStats();
      const recording = buildConversation({ seed: 60 + n, voices: 2, durationSeconds: 34 });

      // Act
      const result = await run(recording, `malformed/${kind}.mp3`);

      // Assess
      const { job } = result;
      expect(job.status, job.error).toBe(EXPECTED[kind].status);
      expect(job.notifiedAt).toBeTruthy();
      EXPECTED[kind].check(result, recording.words.length);
      const calls = rig.callsOf(job.jobId);
      rig.record({
        group: GROUP,
        case: `${kind} (every answer)`,
        jobs: 1,
        expected: EXPECTED[kind].says,
        outcome:
          job.status === "COMPLETED"
            ? `COMPLETED, ${job.wordCount} words; ${result.lost} of ${recording.words.length} truth words missing, ${result.extra} extra`
            : `FAILED (${job.errorCode}): "${job.error}"`,
        faults: rig.provider.stats().faultsInjected,
        retries: calls.reduce((sum, c) => sum + c.retries, 0),
        words: job.status === "COMPLETED" ? recording.words.length : undefined,
        lost: result.lost,
        extra: result.extra,
      });
    });
  }

  it("all kinds mixed into a third of the answers of concurrent jobs: every job ends, the batch carries on", async () => {
    // Prepare
    rig.provider.configure({ malformed: kinds, malformedRate: 1 / 3 });
    rig.provider.resetStats();
    const recordings = [70, 71, 72, 73].map((seed) => buildConversation({ seed, voices: 2, durationSeconds: 34 }));

    // Act
    const results = await Promise.all(recordings.map((r, i) => run(r, `malformed/mixed-${i}.mp3`)));

    // Assess: every job ended with a reason or a transcript, and nothing is left on the queues
    for (const { job } of results) {
      expect(["COMPLETED", "FAILED"]).toContain(job.status);
      if (job.status === "FAILED") expect(job.error?.length).toBeGreaterThan(10);
    }
    const depths = await rig.drained(30_000);
    expect(Object.values(depths).every((d) => d === 0), JSON.stringify(depths)).toBe(true);
    const completed = results.filter((r) => r.job.status === "COMPLETED");
    rig.record({
      group: GROUP,
      case: "all kinds, 1/3 of answers, 4 concurrent jobs",
      jobs: results.length,
      expected: "each job ends (COMPLETED with what is valid, or FAILED with a reason); queues drain",
      outcome: `${completed.length} COMPLETED, ${results.length - completed.length} FAILED (${results
        .filter((r) => r.job.status === "FAILED")
        .map((r) => r.job.errorCode)
        .join(", ")}); queues empty`,
      faults: rig.provider.stats().faultsInjected,
      retries: results.reduce((sum, r) => sum + rig.callsOf(r.job.jobId).reduce((n, c) => n + c.retries, 0), 0),
      note: `faults by kind ${JSON.stringify(rig.provider.stats().faultsByKind)}`,
    });
    rig.provider.configure({ malformed: [] });
  });
});
