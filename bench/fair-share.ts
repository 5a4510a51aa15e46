/**
 * `npm run bench:fair`: one long recording and twenty 3-minute ones dropped together on the local stack (the
 * ground-truth provider in its own process, `npm run bench`'s latency model and provider cap), against each
 * job run alone. Fair share (shared/pipeline/release-segments.ts) holds when each short job takes at most 2x
 * its time alone and the long one at most 1.2x, and nothing is lost (every job COMPLETED, every word once).
 *
 *   --hours=N     length of the long recording (default 4; the conversation is generated once and cached)
 *   --shorts=N    how many 3-minute recordings (default 20)
 *   --cap=N       the provider cap (default 32, the wiring's)
 *   --json=PATH   raw results (default bench/results/fair-latest.json)
 *   --together-only   skip the alone runs (their figures are then 0): the together run only, for comparisons
 *   --no-long     the short ones only (what they cost each other, without the long one)
 *   --shorts-after-cut   the short ones dropped once the long one is cut (its segments all stored), each job
 *                 timed from its own upload
 *   --alone-from=PATH    the alone figures from an earlier run's JSON
 *   --log         the pipeline's own log lines (JSON: time, jobId, step) on stdout, for a timeline
 *   --cold        no warm pass: the provider stand-in locates every upload of the measured runs afresh, on
 *                 the same two cores as the pipeline (by default every job runs once alone first, unmeasured)
 *   --chunkers=N  chunkers at once (default: the local stack's 4; Lambda starts one per upload)
 *   --emulators-in-stack   fauxqs and dynalite in the stack's own process, as `stt up` runs them (by default
 *                 they run in a process of their own: in AWS, S3, SQS and DynamoDB are not on a Lambda's event
 *                 loop, and here they would share the one event loop every handler runs on)
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { cpus } from "node:os";
import type { ConversationSpec } from "../test/audio/conversation.js";
import { startLocalStack, type LocalStack } from "../local/stack.js";
import { sessionOn } from "../cli/stack-session.js";
import { uploadRecording } from "../cli/submit.js";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { isTerminal } from "../shared/domain/jobs/job-event.js";
import { deleteJob } from "../shared/pipeline/delete-job.js";
import { DEFAULTS, wiring } from "../shared/wiring.js";
import { startChild } from "./lib/child.js";
import { cpuSeconds } from "./lib/proc.js";
import { startEmulatorsChild } from "./lib/emulators-bridge.js";
import { conversationMp3, type InputFile } from "./lib/inputs.js";
import type { ProviderChildArgs, ProviderChildReady } from "./provider-child.js";
import type { ProviderStats } from "../test/provider/provider-stats.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** `npm run bench`'s provider latency model. */
export const LATENCY = { baseSeconds: 0.5, perAudioSecond: 0.04 };

export interface FairShareOptions {
  hours: number;
  shorts: number;
  shortSeconds: number;
  cap: number;
  latency: { baseSeconds: number; perAudioSecond: number };
  togetherOnly?: boolean;
  noLong?: boolean;
  /** The short ones dropped only once the long one is cut (all its segments stored), not with it. */
  shortsAfterCut?: boolean;
  /** The alone figures from an earlier run's JSON, instead of running them again. */
  aloneFrom?: string;
  /** The pipeline's log lines on stdout (JSON). */
  log?: boolean;
  /** No warm pass: the provider stand-in locates every upload of the measured runs afresh. */
  cold?: boolean;
  /** The emulators in the stack's own process (`stt up`'s layout) rather than in a process of their own. */
  emulatorsInStack?: boolean;
  /** Chunkers at once (the local stack's LOCAL_CHUNKER_CONCURRENCY unless set). */
  chunkers?: number;
}

export interface Repeats {
  requests: number;
  heardBefore: number;
  /** Uploads placed through earlier ones they are exact slices of (probes), not searched for. */
  rehearsed?: number;
}

/** Core-seconds busy and idle since boot, over every core (os.cpus() times are in ms). */
function machineCpu(): { busySeconds: number; idleSeconds: number } {
  let busy = 0;
  let idle = 0;
  for (const { times } of cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    idle += times.idle;
  }
  return { busySeconds: busy / 1000, idleSeconds: idle / 1000 };
}

function repeats(stats: ProviderStats): Repeats {
  return { requests: stats.requests, heardBefore: stats.uploadsHeardBefore, rehearsed: stats.uploadsRehearsed };
}

export interface JobTiming {
  name: string;
  aloneSeconds: number;
  togetherSeconds: number;
  ratio: number;
  status: string;
  segments: number;
  wordCount: number;
  expectedWords: number;
  /** Created -> cut, and cut -> completed, alone and together (from the job records). */
  phases: { alone: [number, number]; together: [number, number] };
  /** The machine's busy core-seconds (every process) while the job ran alone: what it asks of this machine's cores. */
  aloneCoreSeconds: number;
}

export interface FairShareResult {
  options: FairShareOptions;
  machine: { cpus: number; cpuModel: string };
  long: JobTiming;
  shorts: JobTiming[];
  /** Together: upload of all -> the last job ended. */
  togetherWallSeconds: number;
  /** Provider requests whose exact upload it had heard before (answered from memory), per measured phase. */
  providerRepeats: { alone: Repeats; together: Repeats };
  /**
   * The whole machine's CPU over the together run (every process: the pipeline and emulators, the provider
   * stand-in, ffmpeg): core-seconds busy, and the share of all cores' time. Near 1, the run was bound by this
   * machine's cores, and a job's wait measures them rather than the provider cap the shares divide.
   * `stackLoopShare`: how much of the run the stack's one event loop (every step's handler and the SDK clients,
   * and the emulators with `--emulators-in-stack`: this process) was busy; near 1, it was the bottleneck whatever the cores' share.
   */
  togetherCpu: { busySeconds: number; share: number; stackLoopShare: number; byProcess: CoreSeconds };
  allCompleted: boolean;
  everyWordOnce: boolean;
}

/**
 * Core-seconds by process over the together run: the stack (this process: handlers, SDK clients, FLAC encoder threads, the
 * benchmark's own uploads and polling, and the emulators with --emulators-in-stack), the ffmpeg
 * processes it ran, the provider stand-in, and the emulators when apart (else 0).
 */
export interface CoreSeconds {
  stack: number;
  ffmpeg: number;
  provider: number;
  emulators: number;
}

function coreSeconds(providerPid: number, emulatorsPid: number | undefined): CoreSeconds {
  const self = cpuSeconds();
  return {
    stack: self.own,
    ffmpeg: self.children,
    provider: cpuSeconds(providerPid).own,
    emulators: emulatorsPid === undefined ? 0 : cpuSeconds(emulatorsPid).own,
  };
}

function minus(a: CoreSeconds, b: CoreSeconds): CoreSeconds {
  return { stack: a.stack - b.stack, ffmpeg: a.ffmpeg - b.ffmpeg, provider: a.provider - b.provider, emulators: a.emulators - b.emulators };
}

interface Ended {
  seconds: number;
  status: string;
  segments: number;
  wordCount: number;
  /** Its record's creation to its last segment cut. */
  chunkSeconds: number;
  /** Its last segment cut to its completion: transcription, speakers, stitch. */
  afterCutSeconds: number;
  /** Alone runs: the machine's busy core-seconds over the run. */
  coreSeconds?: number;
}

function seconds(from: string | undefined, to: string | undefined): number {
  return from && to ? (Date.parse(to) - Date.parse(from)) / 1000 : Number.NaN;
}

export async function runFairShare(options: FairShareOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<FairShareResult> {
  const longSpec: ConversationSpec = { seed: 7, voices: 4, durationSeconds: Math.round(options.hours * 3600) };
  const shortSpecs: ConversationSpec[] = Array.from({ length: options.shorts }, (_, i) => ({ seed: 100 + i, voices: 3, durationSeconds: options.shortSeconds }));
  log(`inputs: a ${options.hours} h recording and ${options.shorts} x ${options.shortSeconds} s ...`);
  const longInput = await conversationMp3(longSpec);
  const shortInputs: InputFile[] = [];
  for (const spec of shortSpecs) shortInputs.push(await conversationMp3(spec));
  log("provider: indexing the recordings ...");
  const provider = await startChild<ProviderChildReady>(new URL("./provider-child.ts", import.meta.url), {
    recordings: [longSpec, ...shortSpecs],
    // Speaker probes cut from segments it located are placed through them (test/provider/rehear-slices.ts): a
    // probe laid out afresh costs the stand-in ~0.4 s of this machine's CPU otherwise.
    options: { latency: options.latency, maxUploadBytes: 2 ** 31 - 1, rehearSlices: true },
  } satisfies ProviderChildArgs);
  let stack: LocalStack | undefined;
  // Stopped with the stack, or here if the stack never started.
  const apart = options.emulatorsInStack ? undefined : await startEmulatorsChild();
  const emulators = apart?.emulators;
  try {
    stack = await startLocalStack({
      emulators,
      provider: { baseUrl: provider.ready.url, apiKey: provider.ready.apiKey, model: DEFAULTS.model },
      transcriberConcurrency: options.cap,
      chunkerConcurrency: options.chunkers,
      providerMaxInFlight: options.cap,
      visibilityTimeoutSeconds: 300,
      // The steps' own log lines (JSON, with time and jobId) on stdout, for a timeline of where each job waited.
      ...(options.log ? { log: new Logger({ serviceName: "bench-fair", logLevel: "INFO" }) } : {}),
    });
    const session = sessionOn(stack);
    const runAll = async (inputs: InputFile[], afterFirstIsCut = false): Promise<Ended[]> => {
      // Each job's clock starts when its upload does (epoch ms: its end is read from the record's completedAt,
      // so the polling below can be slow without blurring the figures, and cost the stack little).
      const startedAt = new Map<string, number>();
      const uploads: string[] = [];
      const drop = async (input: InputFile) => {
        const started = Date.now();
        const { jobId, key } = await uploadRecording(session, input.path, {});
        startedAt.set(jobId, started);
        uploads.push(key);
        return jobId;
      };
      let ids: string[];
      if (afterFirstIsCut) {
        // The issue's case: the long job is cut, every one of its segments stored, before the others arrive.
        const first = await drop(inputs[0]);
        while ((await session.jobs.get(first))?.chunkedAt === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
        ids = [first, ...(await Promise.all(inputs.slice(1).map(drop)))];
      } else {
        // Dropped together: every upload starts at once.
        ids = await Promise.all(inputs.map(drop));
      }
      const ended = new Map<string, Ended>();
      while (ended.size < ids.length) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        for (const id of ids) {
          if (ended.has(id)) continue;
          const job = await session.jobs.get(id);
          if (job && isTerminal(job.status)) {
            ended.set(id, {
              seconds: ((job.completedAt ? Date.parse(job.completedAt) : Date.now()) - startedAt.get(id)!) / 1000,
              status: job.status,
              segments: job.segmentCount ?? 0,
              wordCount: job.wordCount ?? 0,
              // From the record's own clock: created -> cut -> completed.
              chunkSeconds: seconds(job.createdAt, job.chunkedAt),
              afterCutSeconds: seconds(job.chunkedAt, job.completedAt),
            });
          }
        }
      }
      // Each run leaves the stack as it found it: its jobs' files, records and uploads deleted. The emulators
      // keep objects in this process's memory, and every ffmpeg the steps start from it costs about 40 ms per GB
      // the process holds (fork), so runs after a 4-hour job's would otherwise be slower for its leftovers.
      for (const id of ids) await deleteJob(stack!.ctx, id);
      for (const key of uploads) await session.clients.s3.send(new DeleteObjectCommand({ Bucket: session.resources.buckets.input, Key: key }));
      return ids.map((id) => ended.get(id)!);
    };
    // Warm-up (JIT, connections), not measured: one short job. Then, unless --cold, every job once alone: the
    // provider stand-in locates each distinct upload once and answers repeats from memory, so neither the alone
    // nor the together runs pay for its searching on this machine's two cores (a real provider's compute is not
    // on the caller's machine; the latency model stands for it). An upload the warm pass did not send (a probe
    // laid out differently when jobs interleave) is still located, and counted below.
    await runAll([shortInputs[0]]);
    if (!options.cold) {
      log("warm: every job once alone, not measured ...");
      for (const input of options.noLong ? shortInputs : [longInput, ...shortInputs]) await runAll([input]);
    }
    const heardBefore = async (): Promise<ProviderStats> => {
      const stats = await provider.call<ProviderStats>("stats");
      await provider.call("resetStats");
      return stats;
    };
    await heardBefore();
    const skipped: Ended = { seconds: 0, status: "-", segments: 0, wordCount: 0, chunkSeconds: 0, afterCutSeconds: 0 };
    const alone = async (input: InputFile): Promise<Ended> => {
      const before = machineCpu();
      const [ended] = await runAll([input]);
      return { ...ended, coreSeconds: machineCpu().busySeconds - before.busySeconds };
    };
    log("alone: the long recording ...");
    const previous = options.aloneFrom ? (JSON.parse(readFileSync(options.aloneFrom, "utf8")) as FairShareResult) : undefined;
    const fromPrevious = (t: JobTiming | undefined): Ended | undefined =>
      t && {
        ...skipped,
        seconds: t.aloneSeconds,
        chunkSeconds: t.phases.alone[0],
        afterCutSeconds: t.phases.alone[1],
        coreSeconds: t.aloneCoreSeconds,
        status: "COMPLETED",
      };
    const [longAlone] = previous ? [fromPrevious(previous.long)!] : options.togetherOnly || options.noLong ? [skipped] : [await alone(longInput)];
    log(`  ${longAlone.seconds.toFixed(1)} s`);
    const shortsAlone: Ended[] = [];
    for (const [i, input] of shortInputs.entries()) {
      const ended = previous ? (fromPrevious(previous.shorts[i]) ?? skipped) : options.togetherOnly ? skipped : await alone(input);
      shortsAlone.push(ended);
      log(`alone: short ${i + 1}/${shortInputs.length}: ${ended.seconds.toFixed(1)} s`);
    }
    const aloneStats = await heardBefore();
    log(options.shortsAfterCut ? "together: the short ones dropped once the long one is cut ..." : "together: all dropped at once ...");
    const started = performance.now();
    const cpuBefore = machineCpu();
    const byProcessBefore = coreSeconds(provider.pid, apart?.pid);
    const loopBefore = performance.eventLoopUtilization();
    const together = options.noLong ? [skipped, ...(await runAll(shortInputs))] : await runAll([longInput, ...shortInputs], options.shortsAfterCut);
    const togetherWallSeconds = (performance.now() - started) / 1000;
    const cpuAfter = machineCpu();
    const byProcess = minus(coreSeconds(provider.pid, apart?.pid), byProcessBefore);
    const loop = performance.eventLoopUtilization(loopBefore);
    const togetherCpu = {
      stackLoopShare: loop.utilization,
      byProcess,
      busySeconds: cpuAfter.busySeconds - cpuBefore.busySeconds,
      share: (cpuAfter.busySeconds - cpuBefore.busySeconds) / (cpuAfter.idleSeconds + cpuAfter.busySeconds - cpuBefore.idleSeconds - cpuBefore.busySeconds),
    };
    const togetherStats = await heardBefore();
    const timing = (name: string, alone: Ended, both: Ended, expectedWords: number): JobTiming => ({
      name,
      aloneSeconds: alone.seconds,
      togetherSeconds: both.seconds,
      ratio: both.seconds / alone.seconds,
      status: both.status,
      segments: both.segments,
      wordCount: both.wordCount,
      expectedWords,
      phases: { alone: [alone.chunkSeconds, alone.afterCutSeconds], together: [both.chunkSeconds, both.afterCutSeconds] },
      aloneCoreSeconds: alone.coreSeconds ?? Number.NaN,
    });
    const long = timing(`${options.hours} h`, longAlone, together[0], provider.ready.words[0]);
    const shorts = shortsAlone.map((alone, i) => timing(`short ${i + 1}`, alone, together[i + 1], provider.ready.words[i + 1]));
    const all = [long, ...shorts];
    return {
      options,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown" },
      long,
      shorts,
      togetherWallSeconds,
      providerRepeats: { alone: repeats(aloneStats), together: repeats(togetherStats) },
      togetherCpu,
      allCompleted: all.every((t) => t.status === "COMPLETED" || (options.noLong && t === long)),
      everyWordOnce: all.every((t) => t.wordCount === t.expectedWords || (options.noLong && t === long)),
    };
  } finally {
    await (stack ?? emulators)?.stop();
    await provider.stop();
  }
}

export function formatFairShare(result: FairShareResult, command: string): string {
  const r = (x: number) => x.toFixed(2);
  const shortRatios = result.shorts.map((s) => s.ratio).sort((a, b) => a - b);
  const lines = [
    `Command: \`${command}\` (${result.machine.cpus} cores, ${result.machine.cpuModel}); provider cap ${result.options.cap}, latency ${result.options.latency.baseSeconds} s + ${result.options.latency.perAudioSecond} s per audio second.`,
    "",
    "| job | segments | alone s (cut + rest) | together s (cut + rest) | together / alone | target | words (true) | status |",
    "|---|---|---|---|---|---|---|---|",
    ...[result.long, ...result.shorts].map(
      (s) =>
        `| ${s.name} | ${s.segments} | ${s.aloneSeconds.toFixed(1)} (${phase(s.phases.alone)}) | ${s.togetherSeconds.toFixed(1)} (${phase(s.phases.together)}) | ` +
        `${r(s.ratio)} | <= ${s === result.long ? "1.2" : "2"} | ${s.wordCount} (${s.expectedWords}) | ${s.status} |`,
    ),
    "",
    `Short jobs, together / alone: median ${r(shortRatios[Math.floor(shortRatios.length / 2)])}, worst ${r(shortRatios[shortRatios.length - 1])}. ` +
      `All ${result.shorts.length + 1} jobs COMPLETED: ${result.allCompleted ? "yes" : "NO"}; every word once: ${result.everyWordOnce ? "yes" : "NO"}. ` +
      `Together, the last job ended after ${result.togetherWallSeconds.toFixed(1)} s. Provider requests answered from memory ` +
      `(exact upload heard before): alone ${heard(result.providerRepeats.alone)}, together ${heard(result.providerRepeats.together)}. ` +
      `The machine's cores during the together run: ${result.togetherCpu.busySeconds.toFixed(0)} core-seconds busy, ` +
      `${(100 * result.togetherCpu.share).toFixed(0)} % of all of them; the stack's event loop (handlers, SDK clients${result.options.emulatorsInStack ? ", emulators" : ""}) ` +
      `busy ${(100 * result.togetherCpu.stackLoopShare).toFixed(0)} % of the run. By process (core-seconds): ${byProcessText(result.togetherCpu.byProcess)}. ` +
      floor(result),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * What the jobs ask of this machine's cores, from their alone runs: the short jobs' core-seconds added up, over
 * the cores, is the least time in which all of them can be through together, however the cap is shared.
 */
function floor(result: FairShareResult): string {
  const shorts = result.shorts.reduce((sum, s) => sum + s.aloneCoreSeconds, 0);
  const cores = result.machine.cpus;
  if (!Number.isFinite(shorts)) return "";
  return (
    `Alone, the short jobs kept the machine busy ${shorts.toFixed(0)} core-seconds in all (${(shorts / result.shorts.length).toFixed(1)} each) ` +
    `and the long one ${result.long.aloneCoreSeconds.toFixed(0)}: on ${cores} cores the short ones cannot all be through in less than ` +
    `${(shorts / cores).toFixed(1)} s together.`
  );
}

function byProcessText(c: CoreSeconds): string {
  return `stack ${c.stack.toFixed(0)} (with its FLAC encoder threads), its ffmpeg processes ${c.ffmpeg.toFixed(0)}, provider stand-in ${c.provider.toFixed(0)}, emulators ${c.emulators.toFixed(0)}`;
}

function heard({ requests, heardBefore, rehearsed }: Repeats): string {
  return `${heardBefore}/${requests}${rehearsed ? ` (and ${rehearsed} probes placed through the segments they were cut from)` : ""}`;
}

function phase([cut, rest]: [number, number]): string {
  return `${cut.toFixed(1)} + ${rest.toFixed(1)}`;
}

function arg(argv: string[], name: string): string | undefined {
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options: FairShareOptions = {
    hours: Number(arg(argv, "hours") ?? 4),
    shorts: Number(arg(argv, "shorts") ?? 20),
    shortSeconds: 180,
    cap: Number(arg(argv, "cap") ?? wiring.provider.maxInFlight),
    latency: LATENCY,
    togetherOnly: argv.includes("--together-only"),
    noLong: argv.includes("--no-long"),
    shortsAfterCut: argv.includes("--shorts-after-cut"),
    aloneFrom: arg(argv, "alone-from"),
    log: argv.includes("--log"),
    cold: argv.includes("--cold"),
    emulatorsInStack: argv.includes("--emulators-in-stack"),
    chunkers: arg(argv, "chunkers") === undefined ? undefined : Number(arg(argv, "chunkers")),
  };
  const json = arg(argv, "json") ?? fileURLToPath(new URL("./results/fair-latest.json", import.meta.url));
  const result = await runFairShare(options);
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify(result, null, 2));
  process.stdout.write(formatFairShare(result, `npm run bench:fair${argv.length ? ` -- ${argv.join(" ")}` : ""}`));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
