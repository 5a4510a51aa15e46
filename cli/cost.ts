/**
 * Cost on the command line: the readable cost block of a job (`stt status` writes it on stderr, below the
 * record), and `stt cost [--day YYYY-MM-DD]`, the deployment's spend on a UTC day as its daily counter item
 * holds it (`COST#<day>`: shared/pipeline/cost-cap.ts). Formatting is pure; the run* function opens the
 * folder's stack as `stt jobs` does.
 */
import type { DailyCost, JobRecord } from "../shared/adapters/job-store.js";
import { costSettingsFromEnv } from "../shared/config.js";
import {
  COST_STAGES,
  costDay,
  costUsd,
  formatUsd,
  providerSecondsOf,
  type CostUsd,
  type Prices,
} from "../shared/domain/jobs/cost-estimate.js";
import type { StackSession } from "./stack-session.js";

export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const seconds = (s: number) => `${(Math.round(s * 10) / 10).toFixed(1)} s`;
const gbs = (g: number) => `${(Math.round(g * 100) / 100).toFixed(2)} GB-s`;

/**
 * A job's cost, for people: the provider audio and its parts, the Lambda use per stage, and the dollars at
 * `prices` (the record's own figure where it has one: completed, failed and cancelled jobs). A running job
 * shows what it used so far.
 */
export function costBlock(job: JobRecord, prices: Prices): string {
  const lines = ["cost:"];
  const billing = job.billing;
  let providerSeconds: number;
  if (billing && job.audioSecondsBilled !== undefined) {
    const overlap = billing.overlapSeconds ?? 0;
    const retry = billing.retrySeconds ?? 0;
    providerSeconds = providerSecondsOf(job.audioSecondsBilled, billing);
    lines.push(
      `  provider audio  ${seconds(providerSeconds)}: segments ${seconds(billing.segmentSeconds - overlap)} + overlap ${seconds(overlap)} ` +
        `(${billing.segmentRequests} requests) + speaker probes ${seconds(billing.probeSeconds)} (${billing.probeRequests} requests) + sent again ${seconds(retry)}`,
    );
  } else {
    providerSeconds = job.providerSecondsSent ?? 0;
    lines.push(`  provider audio  ${seconds(providerSeconds)} sent so far${job.retrySeconds ? ` (${seconds(job.retrySeconds)} of it sent again)` : ""}`);
  }
  const stages = COST_STAGES.map((stage) => {
    const use = job.lambda?.[stage];
    return `${stage} ${gbs(use?.gbSeconds ?? 0)} (${use?.invocations ?? 0} invocations)`;
  });
  lines.push(`  lambda          ${stages.join(", ")}`);
  const usd: CostUsd = job.costUsd ?? costUsd(providerSeconds, job.lambda ?? {}, prices);
  const settled = job.costUsd ? "" : " so far";
  lines.push(`  dollars         ${formatUsd(usd.total)}${settled}: provider ${formatUsd(usd.provider)} + lambda ${formatUsd(usd.lambda)}`);
  if (job.costEstimate) {
    const day = job.costEstimate.day ? `, reserved on ${job.costEstimate.day}'s total` : "";
    lines.push(`  estimate        ${formatUsd(job.costEstimate.usd)} before it ran${day}`);
  }
  lines.push(
    `  prices          $${prices.providerPerAudioMinute}/audio minute, $${prices.lambdaPerGbSecond}/GB-s, $${prices.lambdaPerRequest}/request`,
  );
  return `${lines.join("\n")}\n`;
}

/** `stt cost`: a day's total against the limit, and each job's share, largest first. */
export function dailyCostText(day: string, counter: DailyCost | undefined, limitUsd: number | undefined): string {
  const total = counter?.totalUsd ?? 0;
  const limit = limitUsd === undefined ? " (no daily limit: maxDailyCost / STT_MAX_DAILY_COST)" : ` of ${formatUsd(limitUsd)} (daily limit)`;
  const lines = [`${day} (UTC): ${formatUsd(total)} spent${limit}, ${Object.keys(counter?.jobs ?? {}).length} jobs`];
  const shares = Object.entries(counter?.jobs ?? {}).sort(([, a], [, b]) => b - a);
  for (const [jobId, usd] of shares) lines.push(`  ${jobId}  ${formatUsd(usd)}`);
  return `${lines.join("\n")}\n`;
}

/** `stt cost` on a session: the day's counter (today, UTC, by default); exit 0. */
export async function costCommand(session: StackSession, opts: { day?: string; json: boolean }, io: CommandIo, now = new Date()): Promise<number> {
  const day = opts.day ?? costDay(now);
  const counter = await session.jobs.dailyCost(day);
  const limit = costSettingsFromEnv(process.env).maxDailyCost;
  if (opts.json) io.out(`${JSON.stringify({ day, totalUsd: counter?.totalUsd ?? 0, limitUsd: limit ?? null, jobs: counter?.jobs ?? {} }, null, 2)}\n`);
  else io.out(dailyCostText(day, counter, limit));
  return 0;
}

export async function runCost(opts: { day?: string; json: boolean }): Promise<number> {
  const { withStackSession } = await import("./stack-session.js");
  return withStackSession((session) => costCommand(session, opts, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }));
}
