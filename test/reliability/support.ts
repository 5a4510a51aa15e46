/**
 * The reliability suite's rig: one harness (ground-truth provider + local stack) per test file, plus what
 * the tests need to watch it from outside: every notification, every provider call and retry, which job a
 * pipeline step is working for (so a crash can be injected into one job only), bounded waits, and the
 * rows that `report.ts` turns into RELIABILITY.md.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { Upload } from "@aws-sdk/lib-storage";
import { startHarness, type Harness } from "../support/harness.js";
import { alignWords } from "../support/metrics.js";
import { subscribeToJobEvents } from "../../cli/submit.js";
import { sessionOn } from "../../cli/stack-session.js";
import type { LocalStack, LocalStackOptions } from "../../local/stack.js";
import type { JobRecord } from "../../shared/adapters/job-store.js";
import type { JobEvent } from "../../shared/adapters/notifier.js";
import type { Transcript } from "../../shared/domain/types.js";
import type { ProviderClientOptions, TranscriptionRequest } from "../../shared/provider/client.js";
import { OUTPUT_FILES } from "../../shared/pipeline/stitch-job.js";
import { wiring } from "../../shared/wiring.js";
import type { TrueWord } from "../audio/conversation.js";
import { seededRandom } from "../audio/seeded-random.js";

export type RetryInfo = Parameters<NonNullable<ProviderClientOptions["onRetry"]>>[0];

/** One call of the provider client (one segment delivery, or one speaker probe) and what it cost. */
export interface ProviderCall {
  jobId?: string;
  filename: string;
  /** Seconds of audio the call sent (each attempt sends it again; the provider bills the one it answers). */
  audioSeconds: number;
  /** Retries inside this call (attempts - 1). */
  retries: number;
  retryInfos: RetryInfo[];
  outcome: "ok" | "error";
  errorCode?: string;
}

/** A row of the report: one case tried, with its figures. */
export interface CaseRow {
  group: string;
  case: string;
  jobs: number;
  expected: string;
  outcome: string;
  faults?: number;
  retries?: number;
  /** Truth words of the completed jobs, and how many of them are missing / extra in the transcripts. */
  words?: number;
  lost?: number;
  extra?: number;
  note?: string;
}

/** Which job a pipeline step is working for, as seen by the job-store calls it makes. */
interface JobScope {
  jobId: string;
}

const TERMINAL = new Set(["COMPLETED", "FAILED"]);
const here = dirname(fileURLToPath(import.meta.url));

export interface RigOptions extends Partial<LocalStackOptions> {
  providerSeed?: number;
  /** Seed for the client's backoff jitter, so retries repeat run to run. */
  jitterSeed?: number;
}

export class Rig {
  readonly retries: RetryInfo[] = [];
  readonly calls: ProviderCall[] = [];
  readonly events = new Map<string, JobEvent[]>();
  /** jobId -> source key, learned when the chunker creates the job. */
  readonly keyOfJob = new Map<string, string>();
  /** Step -> jobId -> times reached (counted before any crash is injected). */
  readonly stepCounts = new Map<string, Map<string, number>>();
  private readonly rows: CaseRow[] = [];
  private readonly jobScope = new AsyncLocalStorage<JobScope>();
  private readonly callScope = new AsyncLocalStorage<ProviderCall>();
  private crashPlan: (step: string, jobId: string | undefined, key: string | undefined, reached: number) => boolean = () => false;
  private listening = true;
  private listener?: Promise<void>;
  private subscription?: Awaited<ReturnType<typeof subscribeToJobEvents>>;
  harness!: Harness;
  private debugTimer?: NodeJS.Timeout;

  private constructor(private readonly name: string) {}

  static async start(name: string, options: RigOptions = {}): Promise<Rig> {
    const rig = new Rig(name);
    const { providerSeed, jitterSeed, providerClient, ...stackOptions } = options;
    rig.harness = await startHarness({
      providerSeed,
      ...stackOptions,
      providerClient: {
        backoffBaseMs: 50,
        backoffMaxMs: 1000,
        random: seededRandom(jitterSeed ?? 7).next,
        ...providerClient,
        onRetry: (info) => {
          rig.retries.push(info);
          const call = rig.callScope.getStore();
          if (call) {
            call.retries++;
            call.retryInfos.push(info);
          }
          providerClient?.onRetry?.(info);
        },
      },
      checkpoint: (step) => rig.checkpoint(step),
    });
    rig.instrument();
    rig.subscription = await subscribeToJobEvents(sessionOn(rig.stack));
    rig.listener = rig.listen();
    if (process.env.RELIABILITY_DEBUG) rig.debugTimer = setInterval(() => void rig.debug(), 5000);
    return rig;
  }

  get stack(): LocalStack {
    return this.harness.stack;
  }

  get provider() {
    return this.harness.provider;
  }

  get inputBucket(): string {
    return this.stack.resources.buckets.input;
  }

  /** Crash (throw) at a step when `plan` says so; `reached` counts this job's visits to the step, from 1. */
  setCrashPlan(plan: (step: string, jobId: string | undefined, key: string | undefined, reached: number) => boolean): void {
    this.crashPlan = plan;
  }

  reached(step: string, jobId: string): number {
    return this.stepCounts.get(step)?.get(jobId) ?? 0;
  }

  private checkpoint(step: string): void {
    const jobId = this.jobScope.getStore()?.jobId;
    let reached = 0;
    if (jobId) {
      const counts = this.stepCounts.get(step) ?? new Map<string, number>();
      reached = (counts.get(jobId) ?? 0) + 1;
      counts.set(jobId, reached);
      this.stepCounts.set(step, counts);
    }
    const key = jobId ? this.keyOfJob.get(jobId) : undefined;
    if (this.crashPlan(step, jobId, key, reached)) throw new Error(`injected crash at ${step}`);
  }

  /**
   * Every step starts by reading or writing its job record, so wrapping those calls tells us which job the
   * rest of the step (and its checkpoints) belongs to. enterWith carries the scope into the caller's
   * continuation: the step's own async context, not its neighbours'.
   */
  private instrument(): void {
    const jobs = this.stack.ctx.jobs;
    const scope = this.jobScope;
    const get = jobs.get.bind(jobs);
    const create = jobs.create.bind(jobs);
    const fail = jobs.fail.bind(jobs);
    jobs.get = (jobId) => {
      scope.enterWith({ jobId });
      return get(jobId);
    };
    jobs.create = (job, now) => {
      this.keyOfJob.set(job.jobId, job.source.key);
      scope.enterWith({ jobId: job.jobId });
      return create(job, now);
    };
    jobs.fail = (jobId, reason, code, now) => {
      scope.enterWith({ jobId });
      return fail(jobId, reason, code, now);
    };
    const provider = this.stack.ctx.provider;
    const transcribe = provider.transcribe.bind(provider);
    provider.transcribe = (req: TranscriptionRequest) => {
      const call: ProviderCall = {
        jobId: scope.getStore()?.jobId,
        filename: req.filename,
        audioSeconds: req.audioSeconds,
        retries: 0,
        retryInfos: [],
        outcome: "ok",
      };
      this.calls.push(call);
      return this.callScope.run(call, async () => {
        try {
          return await transcribe(req);
        } catch (error) {
          call.outcome = "error";
          call.errorCode = (error as { code?: string }).code;
          throw error;
        }
      });
    };
  }

  private async listen(): Promise<void> {
    while (this.listening) {
      try {
        for (const event of await this.subscription!.next(1)) {
          const list = this.events.get(event.jobId) ?? [];
          list.push(event);
          this.events.set(event.jobId, list);
        }
      } catch {
        if (this.listening) await sleep(200);
      }
    }
  }

  /** Puts a file in the input bucket, as a user would (multipart for big ones), with options as metadata. */
  async upload(key: string, body: Buffer | string, metadata: Record<string, string> = {}): Promise<void> {
    await new Upload({
      client: this.stack.clients.s3,
      params: { Bucket: this.inputBucket, Key: key, Body: body, Metadata: metadata },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
    }).done();
  }

  /** The job the chunker started for a key. */
  async jobOf(key: string, timeoutMs = 60_000): Promise<JobRecord> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = await this.stack.ctx.jobs.jobsForSource(this.inputBucket, key, wiring.table.sourceIndex.name);
      if (found.length > 0) return found[0];
      // Dozens of waiters share the emulators with the pipeline: poll gently.
      await sleep(500);
    }
    throw new Error(`no job was started for '${key}' within ${timeoutMs / 1000} s`);
  }

  async jobsOf(key: string): Promise<JobRecord[]> {
    return this.stack.ctx.jobs.jobsForSource(this.inputBucket, key, wiring.table.sourceIndex.name);
  }

  /**
   * Waits (bounded) until the key's job has ended, its end is recorded as notified and the notification
   * was heard on the topic. A job that does not get there in time fails the test with its last state.
   */
  async settle(key: string, timeoutMs = 120_000): Promise<JobRecord> {
    const deadline = Date.now() + timeoutMs;
    const { jobId } = await this.jobOf(key, timeoutMs);
    let job: JobRecord | undefined;
    let lastRead = 0;
    while (Date.now() < deadline) {
      // The notification is what ends the wait; the record is read when it arrives (and now and then meanwhile).
      if (this.events.has(jobId) || Date.now() - lastRead > 3000) {
        lastRead = Date.now();
        job = await this.stack.ctx.jobs.get(jobId);
        if (job && TERMINAL.has(job.status) && job.notifiedAt && this.events.get(jobId)?.some((e) => e.status === job!.status)) {
          return job;
        }
      }
      await sleep(250);
    }
    throw new Error(
      `job ${jobId} ('${key}') did not settle within ${timeoutMs / 1000} s: status ${job?.status}, ` +
        `segments ${job?.doneSegments?.size ?? 0}/${job?.segmentCount ?? "?"}, notified ${Boolean(job?.notifiedAt)}, lastError ${job?.lastError ?? "-"}`,
    );
  }

  /** The five output files of a completed job, as bytes. */
  async outputs(job: JobRecord): Promise<Record<string, Buffer>> {
    const files: Record<string, Buffer> = {};
    for (const { file } of Object.values(OUTPUT_FILES)) {
      const out = await this.stack.clients.s3.send(
        new GetObjectCommand({ Bucket: this.stack.resources.buckets.output, Key: `jobs/${job.jobId}/${file}` }),
      );
      files[file] = Buffer.from(await out.Body!.transformToByteArray());
    }
    return files;
  }

  async transcript(job: JobRecord): Promise<Transcript> {
    const files = await this.outputs(job);
    return JSON.parse(files["transcript.verbose.json"].toString("utf8")) as Transcript;
  }

  /** Messages left on every queue (visible + in flight): all zero when nothing is stuck. */
  async queueDepths(): Promise<Record<string, number>> {
    const depths: Record<string, number> = {};
    for (const [id, queue] of Object.entries(this.stack.resources.queues)) {
      for (const [name, url] of [[id, queue.url], [`${id}-dlq`, queue.dlqUrl]] as const) {
        const out = await this.stack.clients.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
          }),
        );
        depths[name] = Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
      }
    }
    return depths;
  }

  /** Waits (bounded) for every queue to drain; returns the last depths seen. */
  async drained(timeoutMs = 60_000): Promise<Record<string, number>> {
    const deadline = Date.now() + timeoutMs;
    let depths = await this.queueDepths();
    while (Object.values(depths).some((n) => n > 0) && Date.now() < deadline) {
      await sleep(500);
      depths = await this.queueDepths();
    }
    return depths;
  }

  callsOf(jobId: string): ProviderCall[] {
    return this.calls.filter((c) => c.jobId === jobId);
  }

  record(row: CaseRow): void {
    this.rows.push(row);
  }

  /** RELIABILITY_DEBUG=1: what the stack is doing, every 5 s, on stderr. */
  private async debug(): Promise<void> {
    const jobs = await Promise.all([...this.keyOfJob.keys()].map((id) => this.stack.ctx.jobs.get(id)));
    const states = jobs.map((j) => `${j?.source.key.split("/").pop()}:${j?.status}:${j?.doneSegments?.size ?? 0}/${j?.segmentCount ?? "?"}`);
    process.stderr.write(
      `[${this.name}] ${JSON.stringify(this.stack.runner.stats.invocations)} inflight ${JSON.stringify(this.stack.runner.stats.inFlight)} ` +
        `provider ${this.provider.stats().requests} calls ${this.calls.length}\n  ${states.join(" ")}\n`,
    );
  }

  async close(): Promise<void> {
    if (this.debugTimer) clearInterval(this.debugTimer);
    this.listening = false;
    await this.listener;
    await this.subscription?.close();
    await this.harness?.close();
    const dir = join(here, "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${this.name}.json`), `${JSON.stringify({ file: this.name, rows: this.rows }, null, 2)}\n`);
  }
}

/** Truth words against a transcript: how many are missing and how many were added (each word once = 0 and 0). */
export function wordLoss(truth: readonly TrueWord[], transcript: Pick<Transcript, "words">): { words: number; lost: number; extra: number } {
  const pairs = alignWords(truth, transcript.words);
  return { words: truth.length, lost: truth.length - pairs.length, extra: transcript.words.length - pairs.length };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sums a list of word-loss figures. */
export function sumLoss(items: Array<{ words: number; lost: number; extra: number }>): { words: number; lost: number; extra: number } {
  return items.reduce((a, b) => ({ words: a.words + b.words, lost: a.lost + b.lost, extra: a.extra + b.extra }), { words: 0, lost: 0, extra: 0 });
}
