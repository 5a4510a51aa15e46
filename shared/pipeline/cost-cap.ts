/**
 * Cost you can cap: a job's own limit (metadata `max-cost`, else the deployment's `maxJobCost`) and the
 * deployment's limit per UTC day (`maxDailyCost`), checked by the chunker once ffprobe has told the duration
 * and before any audio is decoded or sent (admitByCost); and the settling of a job's spend when it ends
 * (settleJobCost), so the day's total holds what jobs cost, not what they were expected to.
 *
 * The day's total is one counter item in the jobs table, `pk = COST#<yyyy-mm-dd>`, `sk = COST`: `total` and
 * one attribute per job (`job_<jobId>`: its reservation, then its cost). A job reserves its estimate with one
 * conditional update (no transactions: dynalite has none), which a repeated chunker run finds done; at its end
 * the share is corrected to what it cost (completed: provider and Lambda; failed or cancelled: what it sent
 * before it stopped), once, by a conditional update on the share still being the reservation.
 */
import type { JobRecord } from "../adapters/job-store.js";
import {
  DEFAULT_PRICES,
  UNKNOWN_DURATION_REASON,
  costDay,
  costUsd,
  estimateJobCost,
  overDailyLimitReason,
  overJobLimitReason,
  providerSecondsOf,
  type CostEstimate,
  type CostUsd,
  type Prices,
} from "../domain/jobs/cost-estimate.js";
import type { JobCost } from "../domain/jobs/job-billing.js";
import type { JobOptions } from "../domain/options/options.js";
import { PermanentError } from "../errors.js";
import type { PipelineContext } from "./context.js";
import { currentMeter } from "./invocation-meter.js";
import { settlesSpeakers } from "./job-progress.js";

/** The deployment's prices (stack settings `prices`; DEFAULT_PRICES when the configuration has none). */
export function pricesOf(ctx: Pick<PipelineContext, "config">): Prices {
  return ctx.config.cost?.prices ?? DEFAULT_PRICES;
}

export interface CostPlan {
  /** ffprobe's duration; undefined when it cannot tell. */
  durationSeconds: number | undefined;
  chunkSeconds: number;
  overlapSeconds: number;
}

/**
 * Lets the job go on when its estimate fits its own limit and the day's, reserving it on the day's counter;
 * else throws a PermanentError (the chunker fails the job with its reason; nothing was sent). The estimate is
 * kept on the record either way it goes on (`costEstimate`), limits or not. Safe to repeat.
 */
export async function admitByCost(ctx: PipelineContext, job: Pick<JobRecord, "jobId" | "costEstimate">, options: JobOptions, plan: CostPlan): Promise<CostEstimate | undefined> {
  const jobLimit = options.maxCost ?? ctx.config.cost?.maxJobCost;
  const dailyLimit = ctx.config.cost?.maxDailyCost;
  const capped = jobLimit !== undefined || dailyLimit !== undefined;
  if (plan.durationSeconds === undefined || !Number.isFinite(plan.durationSeconds)) {
    if (capped) throw new PermanentError("cost_unknown", UNKNOWN_DURATION_REASON);
    return undefined;
  }
  const estimate = estimateJobCost(
    { durationSeconds: plan.durationSeconds, chunkSeconds: plan.chunkSeconds, overlapSeconds: plan.overlapSeconds, diarized: settlesSpeakers(options) },
    pricesOf(ctx),
  );
  const usd = estimate.usd.total;
  if (jobLimit !== undefined && usd > jobLimit) throw new PermanentError("max_cost", overJobLimitReason(usd, jobLimit));
  if (dailyLimit === undefined) {
    await ctx.jobs.setCostEstimate(job.jobId, { usd });
    return estimate;
  }
  // A repeated run keeps the day of the first one, across midnight too.
  const day = job.costEstimate?.day ?? costDay(ctx.now());
  const reserved = await ctx.jobs.reserveDailyCost(day, job.jobId, usd, dailyLimit);
  if (!reserved.reserved) throw new PermanentError("daily_cost_limit", overDailyLimitReason(reserved.spentUsd, dailyLimit, usd));
  const share = reserved.already ? ((await ctx.jobs.dailyCost(day))?.jobs[job.jobId] ?? usd) : usd;
  await ctx.jobs.setCostEstimate(job.jobId, { usd, day, reservedUsd: share });
  ctx.log.info("job cost reserved", { jobId: job.jobId, day, usd, repeat: reserved.already });
  return estimate;
}

/**
 * The stitcher's figures for a completing job: the provider cost with the audio sent again (the record's
 * `retrySeconds`), and the dollars, with every stage's Lambda use so far. The stitcher's own invocation is
 * added first, so the record holds it; what it does after completing (the notification) comes after.
 */
export async function completedJobCost(ctx: PipelineContext, jobId: string, cost: JobCost): Promise<JobCost & { costUsd: CostUsd }> {
  await currentMeter()?.flush();
  const usage = await ctx.jobs.get(jobId);
  const retrySeconds = usage?.retrySeconds ?? 0;
  const billing = { ...cost.billing, retrySeconds: Math.round(retrySeconds * 1000) / 1000 };
  return {
    audioSecondsBilled: cost.audioSecondsBilled,
    billing,
    costUsd: costUsd(providerSecondsOf(cost.audioSecondsBilled, billing), usage?.lambda ?? {}, pricesOf(ctx)),
  };
}

/**
 * An ended job's spend, settled once: a failed or cancelled job gets its `costUsd` (the provider audio it sent,
 * every attempt, and its Lambda use so far), and the day's counter has the job's reservation corrected to its
 * cost. Repeatable (ensureNotified calls it until the job is announced). Returns the record with its cost.
 */
export async function settleJobCost(ctx: PipelineContext, job: JobRecord): Promise<JobRecord> {
  let cost = job.costUsd;
  if (!cost) {
    // The invocation that ended the job counts too: its use goes on the record first.
    const meter = currentMeter();
    const usage = meter ? (await meter.flush(), (await ctx.jobs.get(job.jobId)) ?? job) : job;
    cost = costUsd(usage.providerSecondsSent ?? 0, usage.lambda ?? {}, pricesOf(ctx));
    await ctx.jobs.setCostUsd(job.jobId, cost);
  }
  const reservation = job.costEstimate;
  if (reservation?.day !== undefined && reservation.reservedUsd !== undefined) {
    const settled = await ctx.jobs.settleDailyCost(reservation.day, job.jobId, reservation.reservedUsd, cost.total);
    if (settled) ctx.log.info("job cost settled on the day's total", { jobId: job.jobId, day: reservation.day, reservedUsd: reservation.reservedUsd, usd: cost.total });
  }
  return { ...job, costUsd: cost };
}
