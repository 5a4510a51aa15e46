/**
 * The one definition of the pipeline's resources and of which event reaches
 * which handler. The CDK stack (infra/) and the local stack (local/) both read
 * it, so what runs on a laptop is what deploys.
 */

export type BucketId = "input" | "work" | "output";
export type QueueId = "segments" | "stitch";
export type FunctionId = "chunker" | "transcriber" | "stitcher" | "deadLetter" | "sessionSweeper";
/** The job table's global secondary indexes (wiring.table.<id>). */
export type TableIndexId = "sourceIndex" | "liveSessionIndex" | "recentIndex";

export interface BucketSpec {
  /** Logical name; the local stack uses it as the bucket name, CDK lets AWS name it. */
  name: string;
  /** Days after which objects expire (work files are only needed while a job runs). */
  expireDays?: number;
}

export interface QueueSpec {
  name: string;
  /** Seconds; at least 6x the consuming function's timeout (AWS guidance for SQS event sources). */
  visibilityTimeoutSeconds: number;
  /** Receives before a message is moved to the dead-letter queue. */
  maxReceiveCount: number;
  deadLetterQueueName: string;
  /**
   * A message whose handling failed for a retryable reason (a 429, a timeout) comes back after this
   * backoff, doubling with each receive up to the maximum, not after the visibility timeout (which is
   * sized for a handler still running): a provider hiccup costs seconds, not half an hour.
   */
  retryBackoff: { firstSeconds: number; maxSeconds: number };
}

export type Trigger =
  /**
   * Every new object triggers: the chunker itself rejects what is not audio
   * with a FAILED record, so a wrong upload is never silently ignored.
   * Events the function still fails on (after Lambda's retries) go to
   * `failureQueueName`, which the dead-letter function drains.
   */
  | {
      kind: "s3";
      bucket: BucketId;
      failureQueueName: string;
      asyncRetries: number;
      /**
       * ObjectRemoved events of the bucket reach the function too when the deployment's setting `when` is on
       * (infra/settings.ts; the local stack's option of the same name), with the access handling them needs.
       */
      removals?: RemovalTrigger;
    }
  | {
      kind: "sqs";
      queue: QueueId;
      batchSize: number;
      maxConcurrency: number;
      /**
       * The concurrency is the deployment's provider cap (`providerMaxInFlight`, a deploy setting), not
       * `maxConcurrency`: one provider request per invocation. `maxConcurrency` is the cap's default.
       */
      concurrencyIsProviderCap?: boolean;
    }
  | { kind: "sqsDeadLetter"; queues: readonly QueueId[]; asyncFailures: readonly FunctionId[]; batchSize: number }
  /** An EventBridge schedule: the function runs every `everyMinutes`, with no input that matters. */
  | { kind: "schedule"; everyMinutes: number };

/**
 * Deleting an input object deletes the jobs made from it (erasure requests: pipeline/delete-job.ts's
 * deleteJobsOfSource), in deployments that turn `when` on: the function then receives the bucket's
 * ObjectRemoved events and may delete under `deletes` and delete job items and utterances.
 */
export interface RemovalTrigger {
  when: "deleteJobsWithSource";
  /** s3:ListBucket and s3:DeleteObject under each prefix. */
  deletes: ReadonlyArray<{ bucket: BucketId; prefix: string }>;
}

/** Deployment switches that change which events reach a function (infra/settings.ts holds their defaults). */
export interface EventSettings {
  deleteJobsWithSource: boolean;
}

/** Whether an S3 trigger also receives the bucket's ObjectRemoved events in a deployment with `settings`. */
export function receivesRemovals(trigger: Trigger, settings: EventSettings): trigger is Extract<Trigger, { kind: "s3" }> & { removals: RemovalTrigger } {
  return trigger.kind === "s3" && trigger.removals !== undefined && settings[trigger.removals.when];
}

export interface FunctionSpec {
  /** Folder under functions/ holding handler.ts. */
  entry: string;
  trigger: Trigger;
  timeoutSeconds: number;
  memoryMb: number;
  ephemeralStorageMb: number;
  needsFfmpeg: boolean;
  /** What it touches, so CDK grants exactly this and nothing else. */
  access: {
    read: readonly BucketId[];
    write: readonly BucketId[];
    /** s3:ListBucket, only for keys under `prefix`. */
    list?: ReadonlyArray<{ bucket: BucketId; prefix: string }>;
    send: readonly QueueId[];
    table: "none" | "read" | "readWrite";
    /** Indexes it queries (with table access); the source index when unset. */
    indexes?: readonly TableIndexId[];
    publish: boolean;
    providerSecret: boolean;
  };
}

/** Audio and video extensions the chunker accepts as jobs; anything else ends FAILED with a reason. */
export const MEDIA_SUFFIXES = [
  ".wav", ".mp3", ".m4a", ".mp4", ".webm", ".flac", ".ogg", ".oga", ".opus", ".aac", ".mov", ".mkv",
] as const;

/**
 * A recording by URL: a JSON pointer `{"url": "https://…", "options": {…}}` under a key with this ending
 * (shared/sources/url-pointer.ts). The chunker copies what the URL serves into the work bucket and chunks the
 * copy; with MEDIA_SUFFIXES, the keys it takes as jobs (the trigger itself has no suffix filter).
 */
export const URL_POINTER_SUFFIX = ".url.json";

/** Every key ending the chunker starts a job for; others end FAILED with a reason. */
export const CHUNKER_SUFFIXES = [...MEDIA_SUFFIXES, URL_POINTER_SUFFIX] as const;

const PROVIDER_CAP = { maxInFlight: 32 } as const;

export const wiring = {
  buckets: {
    input: { name: "stt-input" },
    work: { name: "stt-work", expireDays: 7 },
    output: { name: "stt-output" },
  } satisfies Record<BucketId, BucketSpec>,

  queues: {
    segments: {
      name: "stt-segments",
      visibilityTimeoutSeconds: 6 * 300,
      maxReceiveCount: 5,
      deadLetterQueueName: "stt-segments-dlq",
      // 10, 20, 40, 80 s (+ up to 20 % jitter): the fifth and last try ~2.5 min after the first failure.
      retryBackoff: { firstSeconds: 10, maxSeconds: 300 },
    },
    stitch: {
      name: "stt-stitch",
      visibilityTimeoutSeconds: 6 * 300,
      maxReceiveCount: 5,
      deadLetterQueueName: "stt-stitch-dlq",
      retryBackoff: { firstSeconds: 10, maxSeconds: 300 },
    },
  } satisfies Record<QueueId, QueueSpec>,

  table: {
    name: "stt-jobs",
    partitionKey: "pk",
    sortKey: "sk",
    /** Find jobs by source object: gsi1pk = SOURCE#<bucket>/<key>, gsi1sk = createdAt. */
    sourceIndex: { name: "bySource", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    /**
     * Realtime sessions still streaming, by last heartbeat: gsi2pk = LIVE_SESSION, gsi2sk = the heartbeat's ISO
     * time. Sparse: a session leaves it when it ends, so the orphan sweep reads only live sessions.
     */
    liveSessionIndex: { name: "byHeartbeat", partitionKey: "gsi2pk", sortKey: "gsi2sk" },
    /**
     * Jobs newest first, without a scan: gsi3pk = JOBS, gsi3sk = createdAt#jobId (job-store.ts's recentJobs). One
     * partition for every job: enough for the viewer's list at this pipeline's job rates (a job is minutes of work).
     */
    recentIndex: { name: "byCreated", partitionKey: "gsi3pk", sortKey: "gsi3sk" },
    ttlAttribute: "expiresAt",
    /**
     * The partition of queued jobs' items (adapters/job-schedule.ts): a job leaves the queue by DeleteItem, which
     * the functions may do on this partition only (dynamodb:LeadingKeys).
     */
    queuedJobsPartition: "QUEUED",
  },

  topic: { name: "stt-job-events" },

  /** EventBridge detail-type, as Amazon Transcribe names its own job events. */
  eventDetailType: "Transcription Job State Change",
  /** EventBridge detail-type of a completed job whose transcript changed (a speaker renamed). */
  transcriptChangedDetailType: "Transcript Changed",
  eventSource: "stt.pipeline",

  /**
   * The most requests the pipeline has at the provider at once, the whole
   * deployment together (segment requests and speaker probes): each holds a
   * slot in the jobs table while it is at the provider (adapters/provider-slots.ts).
   */
  provider: PROVIDER_CAP,

  functions: {
    chunker: {
      entry: "chunker",
      trigger: {
        kind: "s3",
        bucket: "input",
        failureQueueName: "stt-chunker-failures",
        asyncRetries: 2,
        // A deleted recording deletes its jobs: their outputs, work objects, utterances and records.
        removals: { when: "deleteJobsWithSource", deletes: [{ bucket: "work", prefix: "jobs/" }, { bucket: "output", prefix: "jobs/" }] },
      },
      timeoutSeconds: 900,
      // For CPU, not memory: ffmpeg decodes on one core while the FLAC encoder worker (audio/flac-pool.ts)
      // runs on another; Lambda gives ~1.7 vCPU at 3008 MB (~1.2 at 2048, where the two would take turns).
      memoryMb: 3008,
      ephemeralStorageMb: 1024,
      needsFfmpeg: true,
      // The provider: one diarized request per voice clip registered under voices/ (enroll-voice.ts).
      // Reads the work bucket too: a recording by URL is copied there first, then read back like an upload.
      access: { read: ["input", "work"], write: ["work"], send: ["segments", "stitch"], table: "readWrite", publish: true, providerSecret: true },
    },
    transcriber: {
      entry: "transcriber",
      // One segment request per invocation; probes share the same provider slots, so no more invocations than slots.
      trigger: { kind: "sqs", queue: "segments", batchSize: 1, maxConcurrency: PROVIDER_CAP.maxInFlight, concurrencyIsProviderCap: true },
      timeoutSeconds: 300,
      // Settling speakers decodes the segments it probes (about 4 MB of PCM per 2-minute segment).
      memoryMb: 1024,
      ephemeralStorageMb: 512,
      needsFfmpeg: true,
      // Sends segments too: a finished segment releases the next of its job's share, and a job it ends starts a
      // queued one (pipeline/release-segments.ts, schedule-jobs.ts), from the messages stored in the work bucket.
      access: { read: ["work"], write: ["work"], send: ["segments", "stitch"], table: "readWrite", publish: true, providerSecret: true },
    },
    stitcher: {
      entry: "stitcher",
      trigger: { kind: "sqs", queue: "stitch", batchSize: 1, maxConcurrency: 8 },
      timeoutSeconds: 300,
      memoryMb: 1769,
      ephemeralStorageMb: 512,
      // Speakers are settled before the stitch is asked for: the stitcher never calls the provider. It reads the
      // source (input bucket, or a URL recording's copy in the work bucket) with ffmpeg for redact=pii's
      // silenced audio (pipeline/redact-outputs.ts).
      needsFfmpeg: true,
      // A job it completes starts the oldest queued one: that job's first segments (or its stitch, when it has
      // none) are sent from here (pipeline/schedule-jobs.ts).
      access: { read: ["work", "input"], write: ["output"], send: ["segments", "stitch"], table: "readWrite", publish: true, providerSecret: false },
    },
    deadLetter: {
      entry: "dead-letter",
      trigger: { kind: "sqsDeadLetter", queues: ["segments", "stitch"], asyncFailures: ["chunker"], batchSize: 10 },
      timeoutSeconds: 60,
      memoryMb: 256,
      ephemeralStorageMb: 512,
      needsFfmpeg: false,
      // A job it fails starts the oldest queued one, as any job end does: reads that job's stored segment
      // messages and sends them (pipeline/schedule-jobs.ts).
      access: { read: ["work"], write: [], send: ["segments", "stitch"], table: "readWrite", publish: true, providerSecret: false },
    },
    sessionSweeper: {
      entry: "session-sweeper",
      // A realtime session whose gateway died is orphaned a minute after its last heartbeat; a sweep every
      // 5 minutes submits it within ~6 (realtime/session-orphans.ts).
      trigger: { kind: "schedule", everyMinutes: 5 },
      // Joining a 4-hour session reads ~3000 parts by URL; the sweep claims no new session in its last minutes.
      timeoutSeconds: 900,
      memoryMb: 1024,
      ephemeralStorageMb: 512,
      // The parts are joined with ffmpeg's concat, exactly as the gateway joins them at a normal end.
      needsFfmpeg: true,
      access: {
        read: ["work"],
        write: ["input"],
        list: [{ bucket: "work", prefix: "sessions/" }],
        send: [],
        table: "readWrite",
        indexes: ["liveSessionIndex", "sourceIndex"],
        publish: false,
        providerSecret: false,
      },
    },
  } satisfies Record<FunctionId, FunctionSpec>,
} as const;

/** AWS guidance for SQS event sources: a queue's visibility timeout is at least 6x its consumer's timeout. */
export const VISIBILITY_FACTOR = 6;

/** Days a dead-letter queue keeps a message (the SQS maximum): time to look, fix and redrive. */
export const DEAD_LETTER_RETENTION_DAYS = 14;

/**
 * Visibility timeout of the queues the dead-letter function drains (the DLQs and the async-failure queues):
 * the same 6x rule, applied to its timeout.
 */
export function deadLetterVisibilitySeconds(): number {
  const specs = wiring.functions as Record<FunctionId, FunctionSpec>;
  const consumer = Object.values(specs).find((spec) => spec.trigger.kind === "sqsDeadLetter");
  return VISIBILITY_FACTOR * (consumer?.timeoutSeconds ?? 30);
}

/** An SQS trigger's maximum concurrency in a deployment whose provider cap is `providerMaxInFlight`. */
export function sqsConcurrency(trigger: Extract<Trigger, { kind: "sqs" }>, providerMaxInFlight: number): number {
  return trigger.concurrencyIsProviderCap ? providerMaxInFlight : trigger.maxConcurrency;
}

/** Every index of the job table (string keys, all attributes projected): what CDK and the local stack create. */
export const TABLE_INDEXES: ReadonlyArray<{ id: TableIndexId; name: string; partitionKey: string; sortKey: string }> = (
  ["sourceIndex", "liveSessionIndex", "recentIndex"] as const
).map((id) => ({ id, ...wiring.table[id] }));

/** The indexes a function queries: its wiring's, else the source index. */
export const indexesOf = (spec: FunctionSpec): string[] =>
  spec.access.table === "none" ? [] : (spec.access.indexes ?? ["sourceIndex"]).map((id) => wiring.table[id].name);

/** Environment variable names, shared by the code that sets them (CDK, local stack) and the code that reads them. */
export const ENV = {
  inputBucket: "STT_INPUT_BUCKET",
  workBucket: "STT_WORK_BUCKET",
  outputBucket: "STT_OUTPUT_BUCKET",
  segmentsQueueUrl: "STT_SEGMENTS_QUEUE_URL",
  stitchQueueUrl: "STT_STITCH_QUEUE_URL",
  table: "STT_TABLE",
  topicArn: "STT_TOPIC_ARN",
  eventBusName: "STT_EVENT_BUS",
  baseUrl: "STT_BASE_URL",
  apiKey: "STT_API_KEY",
  /** Read only, where STT_API_KEY is unset: the name Together's own tools use. Nothing sets it. */
  apiKeyFallback: "TOGETHER_API_KEY",
  apiKeySecretArn: "STT_API_KEY_SECRET_ARN",
  model: "STT_MODEL",
  chunkSeconds: "STT_CHUNK_SECONDS",
  overlapSeconds: "STT_OVERLAP_SECONDS",
  ffmpegPath: "STT_FFMPEG_PATH",
  ffprobePath: "STT_FFPROBE_PATH",
  providerTimeoutMs: "STT_PROVIDER_TIMEOUT_MS",
  providerMaxAttempts: "STT_PROVIDER_MAX_ATTEMPTS",
  retentionDays: "STT_RETENTION_DAYS",
  providerMaxInFlight: "STT_PROVIDER_MAX_IN_FLIGHT",
  /** The most bytes a recording by URL may be (shared/sources/url-fetch.ts). */
  urlMaxBytes: "STT_URL_MAX_BYTES",
  /** Prices in US dollars (domain/jobs/cost-estimate.ts's DEFAULT_PRICES when unset). */
  priceProviderPerAudioMinute: "STT_PRICE_PROVIDER_PER_AUDIO_MINUTE",
  priceLambdaPerGbSecond: "STT_PRICE_LAMBDA_PER_GB_SECOND",
  priceLambdaPerRequest: "STT_PRICE_LAMBDA_PER_REQUEST",
  /** Cost caps in US dollars (pipeline/cost-cap.ts): a job's default limit, and the deployment's per UTC day. Unset: none. */
  maxJobCost: "STT_MAX_JOB_COST",
  maxDailyCost: "STT_MAX_DAILY_COST",
  /** "true": every job is redacted (redact=pii) and only the redacted outputs are kept (infra setting redactionMandatory). */
  redactionMandatory: "STT_REDACTION_MANDATORY",
  /** The longest recording a job may be, hours (infra setting maxRecordingHours; DEFAULTS when unset). */
  maxRecordingHours: "STT_MAX_RECORDING_HOURS",
  /** The most jobs transcribing at once; later ones wait as QUEUED (infra setting maxRunningJobs; DEFAULTS when unset). */
  maxRunningJobs: "STT_MAX_RUNNING_JOBS",
} as const;

/**
 * The defaults of the deploy settings (infra/settings.ts) and of the environment contract (shared/config.ts,
 * where a variable is unset: the local stack, the CLI, a Lambda run by hand): one copy for both.
 */
export const DEFAULTS = {
  baseUrl: "https://api.together.xyz/v1",
  model: "openai/whisper-large-v3",
  chunkSeconds: 120,
  overlapSeconds: 4,
  /**
   * The batch provider budget, per segment delivery: 3 x 75 s + 2 x 20 s of backoff + 30 s of margin = 295 s,
   * inside the transcriber's 300 s timeout, so the retries end before Lambda kills the invocation.
   */
  providerTimeoutMs: 75_000,
  providerMaxAttempts: 3,
  /** A recording by URL larger than this is refused (checked against Content-Length, then counted): 2 GiB. */
  urlMaxBytes: 2 * 1024 ** 3,
  /**
   * The longest recording accepted, hours: longer ends FAILED at the probe, before any segment is sent. The
   * chunker cuts an hour in about 2 s (BENCHMARKS.md), so 24 h is well inside its 15 minutes.
   */
  maxRecordingHours: 24,
  /** The most jobs transcribing at once: later ones wait as QUEUED and start, oldest first, as running ones end. */
  maxRunningJobs: 100,
} as const;

/**
 * The realtime gateway's provider budget: a live utterance is a few seconds of audio and someone is waiting
 * for its text, so a shorter timeout and quicker retries than the batch transcriber's.
 */
export const LIVE_PROVIDER_BUDGET = {
  timeoutMs: 30_000,
  maxAttempts: 3,
  backoffBaseMs: 200,
  backoffMaxMs: 2_000,
} as const;
