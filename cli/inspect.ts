import type { OutputFormat } from "../shared/domain/types.js";
import type { JobRecord } from "../shared/adapters/job-store.js";
import { configFromEnv, costSettingsFromEnv } from "../shared/config.js";
import { costBlock } from "./cost.js";
import { ffmpegPaths } from "../shared/audio/ffmpeg.js";
import { isPermanent } from "../shared/errors.js";
import { createContext, type PipelineContext } from "../shared/pipeline/context.js";
import { renameSpeaker } from "../shared/pipeline/rename-speaker.js";
import { localEnvironment } from "../local/resources.js";
import { quietLog } from "../local/stack.js";
import { providerFromEnv } from "./provider-env.js";
import { openSession, startEmbeddedStack, type StackSession } from "./stack-session.js";
import { readOutput } from "./submit.js";

/**
 * Runs `use` on a job from the running stack, or from the on-disk state when
 * none runs (reading needs no provider). Exit code 1 when there is no such job.
 */
async function withJob(jobId: string, use: (session: StackSession, job: JobRecord) => Promise<number>): Promise<number> {
  const provider = providerFromEnv() ?? { baseUrl: "http://127.0.0.1:9", apiKey: "unused", model: "unused" };
  const session = await openSession(() => startEmbeddedStack({ provider }));
  try {
    const job = await session.jobs.get(jobId);
    if (!job) {
      process.stderr.write(`no job ${jobId}\n`);
      return 1;
    }
    return await use(session, job);
  } finally {
    await session.close();
  }
}

export function runStatus(jobId: string): Promise<number> {
  return withJob(jobId, async (_session, job) => {
    // Sets as counts; the release claims (one per finished segment) are the pipeline's bookkeeping, not status.
    const { doneSegments, answeredSegments, releaseClaims: _claims, ...rest } = job;
    process.stdout.write(
      `${JSON.stringify({ ...rest, doneSegments: doneSegments?.size ?? 0, ...(answeredSegments ? { answeredSegments: answeredSegments.size } : {}) }, null, 2)}\n`,
    );
    // For people, beside the record (stdout stays JSON): what the job cost, or has so far (cli/cost.ts).
    process.stderr.write(costBlock(job, costSettingsFromEnv(process.env).prices));
    return job.status === "FAILED" ? 1 : 0;
  });
}

export function runGet(jobId: string, format: OutputFormat): Promise<number> {
  return withJob(jobId, async (session, job) => {
    if (job.status !== "COMPLETED") {
      process.stderr.write(`job ${jobId} is ${job.status}${job.error ? `: ${job.error}` : ""}\n`);
      return 1;
    }
    process.stdout.write(await readOutput(session, job, format));
    return 0;
  });
}

/**
 * Names a completed job's speaker (`name` null: back to its label) on the local stack, rewriting its outputs
 * and utterances and announcing TRANSCRIPT_CHANGED (shared/pipeline/rename-speaker.ts). Exit code 1 when the
 * job is unknown or not completed, or has no such speaker.
 */
export function runRename(jobId: string, speakerId: string, name: string | null): Promise<number> {
  return withJob(jobId, async (session) => {
    try {
      const record = await renameSpeaker(contextOf(session), jobId, speakerId, name);
      const shown = record.speakerNames?.[speakerId];
      process.stdout.write(
        `${speakerId} ${shown === undefined ? "shows as its label again" : `is now ${JSON.stringify(shown)}`} ` +
          `(transcript revision ${record.transcriptRevision ?? 0})\n`,
      );
      return 0;
    } catch (error) {
      if (!isPermanent(error)) throw error;
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
  });
}

/** The pipeline's context on the session's stack: the stack's own when this process runs it, else one over its endpoints. */
export function contextOf(session: StackSession): PipelineContext {
  if (session.embedded) return session.embedded.ctx;
  // A rename calls no provider and no ffmpeg: the provider settings only complete the environment.
  const env = localEnvironment(session.resources, { provider: { baseUrl: "http://127.0.0.1:9", apiKey: "unused" } });
  return createContext(configFromEnv(env), session.clients, ffmpegPaths(), quietLog);
}
