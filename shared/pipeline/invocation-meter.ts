/**
 * What one invocation of a stage (chunker, transcriber, stitcher) costs its job, added to the job's record
 * with one ADD (JobRecords.addUsage): its measured duration times the function's memory from the wiring
 * (GB-seconds), one invocation, and the provider audio its attempts sent, with the part that was sent again
 * (domain/jobs/job-billing.ts's retrySeconds). Every invocation counts, a redelivered one too: each is billed.
 *
 * The queue handlers make one meter per record (batch size 1: per invocation) and flush it when the record is
 * done; a step may flush earlier (the transcriber before it counts its segment done, the chunker before it
 * marks the job chunked, the stitcher before it completes the job), so what a job's completion reads already
 * holds the work that led to it. Each flush adds only what accumulated since the last one.
 *
 * What it cannot see: the time before the handler runs (a cold start's init, the runtime's overhead), and an
 * invocation killed by its timeout or a crash of the process, which never flushes.
 *
 * The provider client reports attempts through its `onRequest` hook, shared by every invocation of a
 * container (and by the concurrent invocations of the local stack): the meter of the attempt's own invocation
 * is found through AsyncLocalStorage.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { gbSecondsOf, type CostStage } from "../domain/jobs/cost-estimate.js";
import type { ProviderRequestInfo } from "../provider/client.js";
import { wiring } from "../wiring.js";
import type { JobRecords } from "../adapters/job-records.js";

/** Provider failures without an HTTP answer: the audio went out, and may have been transcribed and billed. */
const SENT_WITHOUT_ANSWER = new Set(["provider_network"]);

export class InvocationMeter {
  private jobId: string | undefined;
  private flushedMs: number;
  private counted = false;
  private sentSeconds = 0;
  private retrySeconds = 0;
  private answered: number[] = [];

  constructor(
    private readonly jobs: Pick<JobRecords, "addUsage">,
    readonly stage: CostStage,
    private readonly clock: () => number = () => performance.now(),
    private readonly memoryMb: number = wiring.functions[stage].memoryMb,
  ) {
    this.flushedMs = clock();
  }

  /** The job this invocation works for: its record receives the usage. */
  forJob(jobId: string): this {
    this.jobId ??= jobId;
    return this;
  }

  /** One HTTP request to the provider (the client's onRequest hook): answered, or sent without an answer. */
  providerAttempt(info: Pick<ProviderRequestInfo, "audioSeconds" | "code">): void {
    if (info.code === undefined) this.sentSeconds += info.audioSeconds;
    else if (SENT_WITHOUT_ANSWER.has(info.code)) {
      this.sentSeconds += info.audioSeconds;
      this.retrySeconds += info.audioSeconds;
    }
  }

  /** A segment's request sent again after an earlier invocation had its answer (and died before storing it). */
  resent(audioSeconds: number): void {
    this.retrySeconds += audioSeconds;
  }

  /** The segment's provider request was answered: a later request for it is a retry. */
  segmentAnswered(index: number): void {
    this.answered.push(index);
  }

  /** Adds what accumulated since the last flush to the job's record; nothing without a job. */
  async flush(): Promise<void> {
    if (!this.jobId) return;
    const now = this.clock();
    const usage = {
      stage: this.stage,
      gbSeconds: gbSecondsOf(now - this.flushedMs, this.memoryMb),
      invocations: this.counted ? 0 : 1,
      providerSecondsSent: round3(this.sentSeconds),
      retrySeconds: round3(this.retrySeconds),
      answeredSegments: this.answered,
    };
    this.flushedMs = now;
    this.counted = true;
    this.sentSeconds = 0;
    this.retrySeconds = 0;
    this.answered = [];
    await this.jobs.addUsage(this.jobId, usage);
  }
}

const round3 = (seconds: number) => Math.round(seconds * 1000) / 1000;

const current = new AsyncLocalStorage<InvocationMeter>();

/** Runs `work` with `meter` as the current invocation's (providerAttemptMetered finds it). */
export function withMeter<T>(meter: InvocationMeter, work: () => Promise<T>): Promise<T> {
  return current.run(meter, work);
}

/** The current invocation's meter, if it has one. */
export function currentMeter(): InvocationMeter | undefined {
  return current.getStore();
}

/** The provider client's onRequest hook: the attempt counts for the invocation that made it. */
export function providerAttemptMetered(info: Pick<ProviderRequestInfo, "audioSeconds" | "code">): void {
  current.getStore()?.providerAttempt(info);
}
