/**
 * Every number the local stack runs with: queues and their visibility timeouts, redrive and retention,
 * which function each event reaches, with what batch size, concurrency, timeout and retries. Each comes from
 * the wiring definition (shared/wiring.ts), as the CDK stack reads it, unless an override below names it.
 * What no wiring number covers (an emulator or one machine's limit) is a named constant here, with its reason.
 */
import {
  DEAD_LETTER_RETENTION_DAYS,
  deadLetterVisibilitySeconds,
  receivesRemovals,
  sqsConcurrency,
  wiring,
  type BucketId,
  type FunctionId,
  type FunctionSpec,
  type QueueId,
  type QueueSpec,
} from "../shared/wiring.js";

/**
 * The local stack's departures from the wiring, each explicit. Tests set them: with the wiring's visibility
 * timeouts (30 minutes for the segments queue) a failed delivery would come back long after a test ends.
 */
export interface LocalOverrides {
  /**
   * Every queue's visibility timeout, seconds (the wiring's: 6x each consumer's timeout). An invocation's
   * timeout is then at most this too, so that a message is never delivered again while its first
   * invocation still runs, as the 6x rule ensures in AWS.
   */
  visibilityTimeoutSeconds?: number;
  /** Receives before a message moves to its queue's DLQ, for every queue (the wiring's per queue). */
  maxReceiveCount?: number;
  /** The deployment's provider cap (the wiring's default; `transcriberConcurrency` when only that is given). */
  providerMaxInFlight?: number;
  /** The transcriber's concurrency: the provider cap, as in the CDK stack, unless set apart from it. */
  transcriberConcurrency?: number;
  /**
   * Chunkers at once (LOCAL_CHUNKER_CONCURRENCY unless set). Lambda starts one per upload; a benchmark can do the
   * same (`bench:fair --chunkers=N`), though on a few cores the decodes then share them instead of going in turn.
   */
  chunkerConcurrency?: number;
  /**
   * Not a departure: the deploy setting of the same name (infra/settings.ts, default off). On, deleting an
   * object from the input bucket deletes its jobs, as the wiring's `removals` say.
   */
  deleteJobsWithSource?: boolean;
}

/**
 * Lambda runs one chunker per upload, each in its own container; here they share this machine's cores. A decode
 * uses about one core (ffmpeg) plus an encoder worker, so two at once would keep two cores busy, but then one
 * long recording's decode holds half the places for minutes and every short upload waits in single file behind
 * the others (twenty 3-minute uploads dropped with a 4-hour one waited up to 13 s for a chunker: bench:fair).
 * Four let short uploads through while long ones decode; the cores are shared among them rather than queued for.
 */
export const LOCAL_CHUNKER_CONCURRENCY = 4;

/**
 * Lambda retries a failed async invocation after about one and then two minutes. Locally the same retries
 * (the wiring's `asyncRetries`) come after 1 and 2 seconds: a retry there waits for nothing that time mends.
 */
export const LOCAL_ASYNC_RETRY_DELAYS_MS = [1000, 2000] as const;

/**
 * The dead-letter function's SQS sources have no maximum concurrency in the wiring (Lambda scales them out);
 * locally one invocation at a time per source drains them, in order.
 */
export const LOCAL_DEAD_LETTER_CONCURRENCY = 1;

export interface LocalQueue {
  name: string;
  visibilityTimeoutSeconds: number;
  retentionSeconds?: number;
  redrive?: { deadLetterQueueName: string; maxReceiveCount: number };
}

export type LocalSource =
  | {
      kind: "s3";
      fn: FunctionId;
      bucket: BucketId;
      maxConcurrency: number;
      retries: number;
      retryDelaysMs: readonly number[];
      timeoutMs: number;
      /** Lambda's on-failure destination: the event it gave up on goes to this queue. */
      failureQueueName: string;
      /** The bucket's ObjectRemoved events reach it too (the wiring's `removals`, with the stack's setting). */
      removals: boolean;
    }
  | {
      kind: "sqs";
      fn: FunctionId;
      /** Its name in the runner's stats: the function's, or function:queue where it has more than one source. */
      name: string;
      queueName: string;
      batchSize: number;
      maxConcurrency: number;
      timeoutMs: number;
    };

export interface LocalTopology {
  providerMaxInFlight: number;
  /** Dead-letter and failure queues before the queues whose redrive names them. */
  queues: LocalQueue[];
  sources: LocalSource[];
  /** Triggers the local stack does not run, with the reason. */
  notRun: Array<{ fn: FunctionId; reason: string }>;
}

const SPECS = wiring.functions as Record<FunctionId, FunctionSpec>;
const QUEUES = wiring.queues as Record<QueueId, QueueSpec>;
const DAY_SECONDS = 86_400;

/** The wiring, read as the CDK stack reads it (infra/stack.ts), with `overrides` applied. */
export function localTopology(overrides: LocalOverrides = {}): LocalTopology {
  const providerMaxInFlight = overrides.providerMaxInFlight ?? overrides.transcriberConcurrency ?? wiring.provider.maxInFlight;
  const deadLetterVisibility = overrides.visibilityTimeoutSeconds ?? deadLetterVisibilitySeconds();
  const queues: LocalQueue[] = [];
  const visibilityOf = new Map<string, number>();
  const addQueue = (queue: LocalQueue) => {
    queues.push(queue);
    visibilityOf.set(queue.name, queue.visibilityTimeoutSeconds);
  };
  for (const id of Object.keys(QUEUES) as QueueId[]) {
    const spec = QUEUES[id];
    addQueue({ name: spec.deadLetterQueueName, visibilityTimeoutSeconds: deadLetterVisibility, retentionSeconds: DEAD_LETTER_RETENTION_DAYS * DAY_SECONDS });
    addQueue({
      name: spec.name,
      visibilityTimeoutSeconds: overrides.visibilityTimeoutSeconds ?? spec.visibilityTimeoutSeconds,
      redrive: { deadLetterQueueName: spec.deadLetterQueueName, maxReceiveCount: overrides.maxReceiveCount ?? spec.maxReceiveCount },
    });
  }
  for (const id of Object.keys(SPECS) as FunctionId[]) {
    const trigger = SPECS[id].trigger;
    if (trigger.kind === "s3") {
      addQueue({ name: trigger.failureQueueName, visibilityTimeoutSeconds: deadLetterVisibility, retentionSeconds: DEAD_LETTER_RETENTION_DAYS * DAY_SECONDS });
    }
  }

  // An invocation runs as long as its function's timeout, and no longer than a message stays hidden.
  const timeoutMs = (fn: FunctionId, queueName?: string) =>
    Math.min(SPECS[fn].timeoutSeconds, queueName ? (visibilityOf.get(queueName) ?? Infinity) : Infinity) * 1000;
  const sources: LocalSource[] = [];
  const notRun: LocalTopology["notRun"] = [];
  for (const fn of Object.keys(SPECS) as FunctionId[]) {
    const trigger = SPECS[fn].trigger;
    switch (trigger.kind) {
      case "s3":
        sources.push({
          kind: "s3",
          fn,
          bucket: trigger.bucket,
          maxConcurrency: overrides.chunkerConcurrency ?? LOCAL_CHUNKER_CONCURRENCY,
          retries: trigger.asyncRetries,
          retryDelaysMs: LOCAL_ASYNC_RETRY_DELAYS_MS,
          timeoutMs: timeoutMs(fn),
          failureQueueName: trigger.failureQueueName,
          removals: receivesRemovals(trigger, { deleteJobsWithSource: overrides.deleteJobsWithSource ?? false }),
        });
        break;
      case "sqs": {
        const queueName = QUEUES[trigger.queue].name;
        const concurrency = sqsConcurrency(trigger, providerMaxInFlight);
        sources.push({
          kind: "sqs",
          fn,
          name: fn,
          queueName,
          batchSize: trigger.batchSize,
          maxConcurrency: trigger.concurrencyIsProviderCap ? (overrides.transcriberConcurrency ?? concurrency) : concurrency,
          timeoutMs: timeoutMs(fn, queueName),
        });
        break;
      }
      case "sqsDeadLetter": {
        const drained = [
          ...trigger.queues.map((queue) => ({ label: queue as string, queueName: QUEUES[queue].deadLetterQueueName })),
          ...trigger.asyncFailures.map((failed) => {
            const failedTrigger = SPECS[failed].trigger;
            if (failedTrigger.kind !== "s3") throw new Error(`wiring: ${fn} drains async failures of ${failed}, which has no S3 trigger`);
            return { label: failed as string, queueName: failedTrigger.failureQueueName };
          }),
        ];
        for (const { label, queueName } of drained) {
          sources.push({
            kind: "sqs",
            fn,
            name: `${fn}:${label}`,
            queueName,
            batchSize: trigger.batchSize,
            maxConcurrency: LOCAL_DEAD_LETTER_CONCURRENCY,
            timeoutMs: timeoutMs(fn, queueName),
          });
        }
        break;
      }
      case "schedule":
        notRun.push({
          fn,
          reason:
            "nothing runs on a schedule locally: the realtime gateway runs in the stack's own process, so no session outlives it unseen, and its start sweeps the sessions an earlier run left (realtime/local.ts)",
        });
        break;
    }
  }
  return { providerMaxInFlight, queues, sources, notRun };
}
