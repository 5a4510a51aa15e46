/**
 * What a job costs in dollars, and what a recording is expected to cost before any of it is sent: the prices
 * of the deployment (stack settings `prices`, environment STT_PRICE_*), the figures a job's record collects
 * (job-billing.ts for the provider, the per-stage Lambda GB-seconds the queue handlers add), and the rules of
 * the estimate the chunker checks against the cost caps (pipeline/cost-cap.ts). Pure: no I/O.
 */
import type { JobBilling } from "./job-billing.js";

/** List prices, in US dollars. */
export interface Prices {
  /** The provider's price per minute of audio sent (Together, openai/whisper-large-v3: $0.0015). */
  providerPerAudioMinute: number;
  /** Lambda x86 in us-east-1: $0.0000166667 per GB-second. */
  lambdaPerGbSecond: number;
  /** Lambda: $0.20 per million requests. */
  lambdaPerRequest: number;
}

/** The defaults, list prices at the time of writing: check the provider's price page and your region's. */
export const DEFAULT_PRICES: Prices = {
  providerPerAudioMinute: 0.0015,
  lambdaPerGbSecond: 0.0000166667,
  lambdaPerRequest: 0.0000002,
};

/** The functions whose invocations a job's record counts. */
export const COST_STAGES = ["chunker", "transcriber", "stitcher"] as const;
export type CostStage = (typeof COST_STAGES)[number];

/** One stage's Lambda use for a job, as its record adds it up: every invocation, redeliveries included. */
export interface StageUsage {
  gbSeconds: number;
  invocations: number;
}

export type LambdaUsage = Partial<Record<CostStage, StageUsage>>;

/** A job's cost in dollars, from its figures and the prices. */
export interface CostUsd {
  /** Every second of audio the provider was sent (`audioSecondsBilled` + `billing.retrySeconds`). */
  provider: number;
  /** GB-seconds and requests of the chunker, transcriber and stitcher invocations for the job. */
  lambda: number;
  total: number;
}

/**
 * The allowance for speaker probes in an estimate: seconds of probe audio per segment of a diarized job. On
 * the 1-hour, 4-voice bench probes were about 0.4x the recording at 120 s segments (≈48 s per segment); with
 * short segments and many voices they cost more per second of recording, about the same per segment.
 */
export const PROBE_ALLOWANCE_SECONDS_PER_SEGMENT = 50;

/**
 * The allowance for Lambda in an estimate: GB-seconds per second of recording (README "Cost per audio hour":
 * chunker 120 + transcriber 310 + stitcher 52 GB-s per audio hour ≈ 0.134 per second), and invocations per segment.
 */
export const LAMBDA_ALLOWANCE_GB_SECONDS_PER_AUDIO_SECOND = 0.134;

export interface EstimateInput {
  /** The recording's duration, from ffprobe. */
  durationSeconds: number;
  /** The segment length the chunker will cut at. */
  chunkSeconds: number;
  /** Overlap between neighbouring segments (0 for text-only models). */
  overlapSeconds: number;
  /** Whether the job settles speakers (diarized): only then does it send speaker probes. */
  diarized: boolean;
}

export interface CostEstimate {
  segments: number;
  /** The recording itself: every second is in one segment's own stretch. */
  segmentSeconds: number;
  /** Overlap: every cut sends `overlapSeconds` twice (half on each side). */
  overlapSeconds: number;
  /** The speaker-probe allowance. */
  probeSeconds: number;
  lambdaGbSeconds: number;
  usd: CostUsd;
}

/** Nano-dollars: below any bill (a job's Lambda share can be a few micro-dollars), and free of float noise. */
export const roundUsd = (usd: number) => Math.round(usd * 1e9) / 1e9;
const round3 = (seconds: number) => Math.round(seconds * 1000) / 1000;

/**
 * What a recording is expected to cost, before any of it is sent: ceil(duration / chunk) segments, the
 * overlap of every cut between them, the probe allowance per segment when diarized, and the Lambda allowance.
 * No retries: a cap is about what the job asks for, not about failures.
 */
export function estimateJobCost(input: EstimateInput, prices: Prices): CostEstimate {
  const duration = Math.max(0, input.durationSeconds);
  const segments = Math.max(1, Math.ceil(duration / Math.max(1, input.chunkSeconds)));
  const overlapSeconds = (segments - 1) * input.overlapSeconds;
  const probeSeconds = input.diarized ? segments * PROBE_ALLOWANCE_SECONDS_PER_SEGMENT : 0;
  const providerSeconds = duration + overlapSeconds + probeSeconds;
  const lambdaGbSeconds = duration * LAMBDA_ALLOWANCE_GB_SECONDS_PER_AUDIO_SECOND;
  // One chunker and one stitcher invocation, one transcriber invocation per segment.
  const usd = costUsd(providerSeconds, { transcriber: { gbSeconds: lambdaGbSeconds, invocations: segments + 2 } }, prices);
  return { segments, segmentSeconds: round3(duration), overlapSeconds: round3(overlapSeconds), probeSeconds, lambdaGbSeconds: round3(lambdaGbSeconds), usd };
}

/** Dollars of `providerSeconds` of audio and of the Lambda use. */
export function costUsd(providerSeconds: number, lambda: LambdaUsage, prices: Prices): CostUsd {
  let gbSeconds = 0;
  let invocations = 0;
  for (const stage of COST_STAGES) {
    gbSeconds += lambda[stage]?.gbSeconds ?? 0;
    invocations += lambda[stage]?.invocations ?? 0;
  }
  const provider = (providerSeconds / 60) * prices.providerPerAudioMinute;
  const fn = gbSeconds * prices.lambdaPerGbSecond + invocations * prices.lambdaPerRequest;
  return { provider: roundUsd(provider), lambda: roundUsd(fn), total: roundUsd(provider + fn) };
}

/** The provider seconds a job's cost counts: what was billed once per logical request, plus the audio sent again. */
export function providerSecondsOf(audioSecondsBilled: number, billing?: Pick<JobBilling, "retrySeconds">): number {
  return audioSecondsBilled + (billing?.retrySeconds ?? 0);
}

/** GB-seconds of one invocation: its measured duration times the function's memory (Lambda bills by the ms). */
export function gbSecondsOf(durationMs: number, memoryMb: number): number {
  return (Math.ceil(Math.max(0, durationMs)) / 1000) * (memoryMb / 1024);
}

/** The UTC day a cost is counted on: the daily limit's day (`COST#<yyyy-mm-dd>`). */
export function costDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Dollars as people read them: cents from a cent up, below that two significant digits ($0.0042). */
export function formatUsd(usd: number): string {
  if (usd === 0 || Math.abs(usd) >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2)}`;
}

/** The FAILED reason of a job over its own limit. */
export function overJobLimitReason(estimateUsd: number, limitUsd: number): string {
  return `max-cost: this recording is estimated at ${formatUsd(estimateUsd)}, over the job's limit of ${formatUsd(limitUsd)}`;
}

/** The FAILED reason of a job the daily limit has no room for. */
export function overDailyLimitReason(spentUsd: number, limitUsd: number, estimateUsd: number): string {
  return `daily cost limit: ${formatUsd(spentUsd)} of ${formatUsd(limitUsd)} spent today (UTC), this recording needs ${formatUsd(estimateUsd)}`;
}

/** The FAILED reason of a capped job whose duration ffprobe cannot tell: its cost cannot be estimated. */
export const UNKNOWN_DURATION_REASON =
  "max-cost: the recording's duration is unknown, so its cost cannot be estimated before it is sent, and a cost limit applies";
