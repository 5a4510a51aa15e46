/**
 * Fuzz: seeded mutations of a real recording in every upload format, plus hostile playlists, each end
 * COMPLETED or FAILED with a one-line reason (no stack trace, no presigned URL), no job stays open, and
 * nothing but the object's own URL is opened: a local listener sees no connection and a local audio file is
 * never read (its access time is watched).
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { createServer, type Server, type Socket } from "node:net";
import { readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../audio/conversation.js";
import { seededRandom } from "../audio/seeded-random.js";
import { encodeToBytes, wavBytes, type AudioFormat } from "../audio/write-audio.js";
import type { JobRecord } from "../../shared/adapters/job-store.js";
import { hostileCases, mutate, MUTATION_KINDS, type MutationKind } from "./fuzz-inputs.js";
import { Rig, wordLoss, type CaseRow } from "./support.js";

const GROUP = "Fuzz";
const SEED = 1400;
/** Cases per format and mutation kind: 7 formats x 4 kinds x this, plus the hostile payloads. */
const PER_KIND = Number(process.env.FUZZ_PER_KIND ?? 10);
/** Cases in flight at once: enough to keep the two local chunkers busy without flooding the emulators with polls. */
const IN_FLIGHT = 12;
const CASE_TIMEOUT_MS = 90_000;
const FORMATS: readonly AudioFormat[] = ["mp3", "m4a", "webm", "ogg", "opus", "flac", "wav"];
/** A reason that holds a stack frame, a source position, or a presigned URL's query. */
const LEAK = /(^|\s)at \S+ \(|^\s*at |node:internal|\.[cm]?[jt]s:\d+:\d+|X-Amz-/i;

let rig: Rig;
let listener: Server;
const connections: string[] = [];

beforeAll(async () => {
  rig = await Rig.start("fuzz", {
    chunkSeconds: 20,
    overlapSeconds: 4,
    transcriberConcurrency: 4,
    // Garbage that decodes to noise gets no text from the provider and is dead-lettered: keep that quick.
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 2,
  });
  // Any connection at all counts; the request line, when one comes, says which payload was followed.
  listener = createServer((socket: Socket) => {
    const seen = connections.push(`connection from ${socket.remoteAddress}`) - 1;
    socket.setTimeout(1000, () => socket.destroy());
    socket.once("data", (d) => {
      connections[seen] += `: ${d.toString("latin1").split("\r\n")[0]}`;
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  await new Promise((resolve) => listener?.close(resolve));
  await rig?.close();
});

interface FuzzCase {
  key: string;
  format: string;
  kind: MutationKind | "hostile";
  detail: string;
  body: Buffer;
  contentType?: string;
}

interface Ended {
  fuzz: FuzzCase;
  job?: JobRecord;
  seconds: number;
  problem?: string;
}

describe("fuzz", () => {
  it(`${FORMATS.length * MUTATION_KINDS.length * PER_KIND} mutated uploads and the hostile payloads each end COMPLETED or FAILED with a clean reason, opening nothing else`, async () => {
    // Prepare: one short recording in every format, its mutants, the hostile payloads, a canary local file
    const started = Date.now();
    const speech = buildConversation({ seed: 140, voices: 2, durationSeconds: 6 });
    rig.provider.addRecording(speech);
    const encoded = new Map<AudioFormat, Buffer>();
    for (const format of FORMATS) encoded.set(format, await encodeToBytes(speech, format));
    const canary = join(rig.harness.workDir, "canary.wav");
    const control = join(rig.harness.workDir, "control.wav");
    const { port } = listener.address() as { port: number };
    const random = seededRandom(SEED);
    const cases: FuzzCase[] = [];
    for (const format of FORMATS) {
      for (const kind of MUTATION_KINDS) {
        for (let i = 0; i < PER_KIND; i++) {
          const mutant = mutate(kind, format, encoded.get(format)!, encoded, random);
          cases.push({ key: `fuzz/${format}/${kind}-${i}.${format}`, format, kind, detail: mutant.detail, body: mutant.bytes });
        }
      }
    }
    for (const [i, hostile] of hostileCases(port, canary).entries()) {
      cases.push({ key: `fuzz/hostile/${i}${hostile.extension}`, format: hostile.extension.slice(1), kind: "hostile", detail: hostile.contentType ? `${hostile.name} (${hostile.contentType})` : hostile.name, body: Buffer.from(hostile.body), contentType: hostile.contentType });
    }
    // relatime updates the access time of a file read after its last change: set atime before mtime, then any read shows.
    for (const path of [canary, control]) {
      writeFileSync(path, wavBytes(speech.samples));
      const { mtime } = statSync(path);
      utimesSync(path, new Date(mtime.getTime() - 86_400_000), mtime);
    }
    const canaryAtime = statSync(canary).atimeMs;

    // Act: every case through one stack, IN_FLIGHT at a time, each with its own bounded wait
    const ended: Ended[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const fuzz = cases[next++];
        const t0 = Date.now();
        try {
          if (fuzz.contentType) {
            await rig.stack.clients.s3.send(new PutObjectCommand({ Bucket: rig.inputBucket, Key: fuzz.key, Body: fuzz.body, ContentType: fuzz.contentType }));
          } else await rig.upload(fuzz.key, fuzz.body);
          const job = await rig.settle(fuzz.key, CASE_TIMEOUT_MS);
          ended.push({ fuzz, job, seconds: (Date.now() - t0) / 1000 });
        } catch (error) {
          ended.push({ fuzz, seconds: (Date.now() - t0) / 1000, problem: `did not end: ${(error as Error).message}` });
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    // The stack still works after all that: the unmutated mp3 completes with every word once.
    await rig.upload("fuzz/after/control.mp3", encoded.get("mp3")!);
    const after = await rig.settle("fuzz/after/control.mp3", CASE_TIMEOUT_MS);
    const wallSeconds = (Date.now() - started) / 1000;

    // Assess: each case
    const problems: string[] = [];
    for (const e of ended) {
      const { fuzz, job } = e;
      if (e.problem || !job) {
        problems.push(`${fuzz.key} (${fuzz.detail}): ${e.problem}`);
        continue;
      }
      if (job.status === "FAILED") {
        const reason = job.error ?? "";
        if (!reason.trim()) problems.push(`${fuzz.key} (${fuzz.detail}): FAILED without a reason`);
        if (reason.includes("\n")) problems.push(`${fuzz.key} (${fuzz.detail}): reason spans lines: ${JSON.stringify(reason)}`);
        if (LEAK.test(reason)) problems.push(`${fuzz.key} (${fuzz.detail}): reason leaks internals: ${JSON.stringify(reason)}`);
      }
      // A hostile payload holds no audio of its own: a transcript means ffmpeg read audio from somewhere else.
      if (fuzz.kind === "hostile" && job.status === "COMPLETED") {
        problems.push(`${fuzz.key} (${fuzz.detail}): COMPLETED with ${job.duration?.toFixed(2)} s of audio read from elsewhere`);
      }
    }
    // Assess: nothing else was opened, nothing is stuck, the stack still works
    const canaryRead = statSync(canary).atimeMs !== canaryAtime;
    readFileSync(control);
    const atimeWatchWorks = statSync(control).atimeMs !== statSync(control).mtimeMs - 86_400_000;
    const depths = await rig.drained(30_000);
    expect(after.status, after.error).toBe("COMPLETED");
    expect(wordLoss(speech.words, await rig.transcript(after))).toEqual({ words: speech.words.length, lost: 0, extra: 0 });

    // Record: one row per format and mutation kind, one per hostile payload, one for the whole run
    const rows: CaseRow[] = [];
    const describeEnds = (of: Ended[]) => {
      const completed = of.filter((e) => e.job?.status === "COMPLETED").length;
      const failed = of.filter((e) => e.job?.status === "FAILED");
      const codes = new Map<string, number>();
      for (const e of failed) codes.set(e.job!.errorCode ?? "?", (codes.get(e.job!.errorCode ?? "?") ?? 0) + 1);
      const open = of.length - completed - failed.length;
      const slowest = of.reduce((a, b) => (b.seconds > a.seconds ? b : a));
      const codeList = [...codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(", ");
      return `${completed} COMPLETED, ${failed.length} FAILED${codeList ? ` (${codeList})` : ""}${open ? `, ${open} DID NOT END` : ""}; slowest ${slowest.seconds.toFixed(1)} s`;
    };
    const expected = "each ends COMPLETED or FAILED with a one-line reason, no stack trace, no URL";
    for (const format of FORMATS) {
      for (const kind of MUTATION_KINDS) {
        const of = ended.filter((e) => e.fuzz.format === format && e.fuzz.kind === kind);
        rows.push({ group: GROUP, case: `${format}: ${kind}`, jobs: of.length, expected, outcome: describeEnds(of) });
      }
    }
    for (const e of ended.filter((x) => x.fuzz.kind === "hostile")) {
      const outcome = e.job ? (e.job.status === "FAILED" ? `FAILED (${e.job.errorCode}): "${e.job.error}"` : `${e.job.status}, ${e.job.duration?.toFixed(2)} s`) : `DID NOT END in ${CASE_TIMEOUT_MS / 1000} s`;
      rows.push({ group: GROUP, case: `hostile ${e.fuzz.format}: ${e.fuzz.detail}`, jobs: 1, expected: "FAILED, nothing else opened", outcome });
    }
    const slowest = ended.reduce((a, b) => (b.seconds > a.seconds ? b : a));
    rows.push({
      group: GROUP,
      case: `all fuzz cases (seed ${SEED}, ${PER_KIND} per format and kind, ${IN_FLIGHT} in flight)`,
      jobs: ended.length,
      expected: "every case ends; listener sees 0 connections; local file never read; queues drain",
      outcome:
        `${describeEnds(ended)} (${slowest.fuzz.key}: ${slowest.fuzz.detail}); listener connections ${connections.length}; ` +
        `local file read ${canaryRead ? "YES" : "no"}${atimeWatchWorks ? "" : " (atime watch not effective here)"}; wall time ${wallSeconds.toFixed(0)} s`,
      note: problems.length ? `${problems.length} problem(s)` : undefined,
    });
    for (const row of rows) rig.record(row);
    if (problems.length || connections.length) process.stderr.write(`fuzz problems:\n  ${[...problems, ...connections.map((c) => `listener saw: ${c}`)].join("\n  ")}\n`);

    expect(ended).toHaveLength(cases.length);
    expect(problems).toEqual([]);
    expect(connections).toEqual([]);
    expect(canaryRead, "a hostile payload made ffmpeg read a local file").toBe(false);
    expect(Object.values(depths).every((d) => d === 0), JSON.stringify(depths)).toBe(true);
  });
});
