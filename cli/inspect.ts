import type { OutputFormat } from "../shared/domain/types.js";
import type { JobRecord } from "../shared/adapters/job-store.js";
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
    const { doneSegments, ...rest } = job;
    process.stdout.write(`${JSON.stringify({ ...rest, doneSegments: doneSegments?.size ?? 0 }, null, 2)}\n`);
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
