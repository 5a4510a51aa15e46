import type { PipelineClients } from "../../shared/clients.js";
import type { PipelineConfig } from "../../shared/config.js";
import { ffmpegPaths } from "../../shared/audio/ffmpeg.js";
import type { CompletedJob, Log, PipelineContext, PipelineMetrics } from "../../shared/pipeline/context.js";
import { FakeProvider, type FakeAnswer } from "./fake-provider.js";
import { MemoryJobSchedule } from "./memory-job-schedule.js";
import { MemoryJobRecords } from "./memory-job-records.js";
import { MemoryBucket, MemoryQueues, MemorySources, MemoryUrlSources, RecordingNotifier, TempFiles } from "./memory-stores.js";

/** Resource names of the in-memory pipeline: only their shape matters (the adapters are bound to them). */
export const TEST_CONFIG: PipelineConfig = {
  inputBucket: "stt-input",
  workBucket: "stt-work",
  outputBucket: "stt-output",
  segmentsQueueUrl: "memory://queues/stt-segments",
  stitchQueueUrl: "memory://queues/stt-stitch",
  table: "stt-jobs",
  topicArn: "arn:aws:sns:us-east-1:000000000000:stt-job-events",
  provider: {
    baseUrl: "memory://provider",
    model: "openai/whisper-large-v3",
    apiKey: async () => "unused",
    timeoutMs: 1000,
    maxAttempts: 1,
  },
  // A fixed segment length (no segmentCap), as a local stack given chunkSeconds has.
  defaults: { chunkSeconds: 120, overlapSeconds: 4 },
  providerMaxInFlight: 4,
  maxRunningJobs: 100,
};

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  attributes: Record<string, unknown>;
}

/** The steps' log lines, kept for the test (never printed). */
export class RecordingLog implements Log {
  readonly lines: LogLine[] = [];
  debug = this.at("debug");
  info = this.at("info");
  warn = this.at("warn");
  error = this.at("error");

  messages(level?: LogLine["level"]): string[] {
    return this.lines.filter((l) => !level || l.level === level).map((l) => l.message);
  }

  private at(level: LogLine["level"]) {
    return (message: unknown, ...extra: unknown[]) => {
      const attributes = Object.assign({}, ...extra.filter((e) => typeof e === "object" && e !== null)) as Record<string, unknown>;
      this.lines.push({ level, message: String(message), attributes });
    };
  }
}

export class RecordingMetrics implements PipelineMetrics {
  readonly completed: CompletedJob[] = [];
  readonly failed: Array<{ code: string }> = [];
  providerRequest(): void {}
  providerRetry(): void {}
  jobCompleted(job: CompletedJob): void {
    this.completed.push(job);
  }
  jobFailed(job: { code: string }): void {
    this.failed.push(job);
  }
}

/**
 * Stands in for the AWS clients: any use fails the test. The queue handlers' retry delays and the realtime
 * sweeper use them; a step never does (it has the ports).
 */
const NO_CLIENTS = new Proxy({} as PipelineClients, {
  get(_target, property) {
    throw new Error(`a step reached for ctx.clients.${String(property)}: steps use the context's ports`);
  },
});

export interface MemoryPipeline {
  ctx: PipelineContext;
  jobs: MemoryJobRecords;
  schedule: MemoryJobSchedule;
  work: MemoryBucket;
  output: MemoryBucket;
  sources: MemorySources;
  queues: MemoryQueues;
  notifier: RecordingNotifier;
  provider: FakeProvider;
  metrics: RecordingMetrics;
  log: RecordingLog;
  /** The checkpoints the steps passed, in order. */
  checkpoints: string[];
  /** The steps' clock: fixed unless advanced. */
  clock: { now(): Date; advance(seconds: number): void };
  /** Removes the files ffmpeg was given to read. */
  dispose(): void;
}

export interface MemoryPipelineOptions {
  config?: Partial<PipelineConfig>;
  answer?: FakeAnswer;
  /** Runs at each checkpoint after it is recorded (a test may throw there, as a crash). */
  checkpoint?: (step: string) => void | Promise<void>;
  /** The clock's start. */
  start?: Date;
}

/** A pipeline context whose every port is in memory, with the real ffmpeg (npm binaries) for the audio steps. */
export function memoryPipeline(options: MemoryPipelineOptions = {}): MemoryPipeline {
  const files = new TempFiles();
  const config: PipelineConfig = { ...TEST_CONFIG, ...options.config };
  const jobs = new MemoryJobRecords(config.retentionDays);
  const schedule = new MemoryJobSchedule();
  const work = new MemoryBucket(files);
  const output = new MemoryBucket(files);
  const sources = new MemorySources(files);
  const queues = new MemoryQueues();
  const notifier = new RecordingNotifier();
  const provider = new FakeProvider(options.answer);
  const metrics = new RecordingMetrics();
  const log = new RecordingLog();
  const checkpoints: string[] = [];
  let nowMs = (options.start ?? new Date("2026-01-01T00:00:00.000Z")).getTime();
  const clock = {
    now: () => new Date(nowMs),
    advance: (seconds: number) => {
      nowMs += seconds * 1000;
    },
  };
  const ctx: PipelineContext = {
    config,
    clients: NO_CLIENTS,
    jobs,
    schedule,
    work,
    output,
    sources,
    urlSources: new MemoryUrlSources(sources, work),
    queues,
    notifier,
    provider,
    ffmpeg: ffmpegPaths(),
    log,
    metrics,
    now: clock.now,
    checkpoint: async (step) => {
      checkpoints.push(step);
      await options.checkpoint?.(step);
    },
  };
  return { ctx, jobs, schedule, work, output, sources, queues, notifier, provider, metrics, log, checkpoints, clock, dispose: () => files.dispose() };
}
