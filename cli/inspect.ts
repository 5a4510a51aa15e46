import type { OutputFormat } from "../shared/domain/types.js";
import { providerFromEnv } from "./provider-env.js";
import { openSession, startEmbeddedStack } from "./stack-session.js";
import { readOutput } from "./submit.js";

/** Opens the running stack, or the on-disk state without a provider (reading needs none). */
function session() {
  const provider = providerFromEnv() ?? { baseUrl: "http://127.0.0.1:9", apiKey: "unused", model: "unused" };
  return openSession(() => startEmbeddedStack({ provider }));
}

export async function runStatus(jobId: string): Promise<number> {
  const s = await session();
  try {
    const job = await s.jobs.get(jobId);
    if (!job) {
      process.stderr.write(`no job ${jobId}\n`);
      return 1;
    }
    const { doneSegments, ...rest } = job;
    process.stdout.write(`${JSON.stringify({ ...rest, doneSegments: doneSegments?.size ?? 0 }, null, 2)}\n`);
    return job.status === "FAILED" ? 1 : 0;
  } finally {
    await s.close();
  }
}

export async function runGet(jobId: string, format: OutputFormat): Promise<number> {
  const s = await session();
  try {
    const job = await s.jobs.get(jobId);
    if (!job) {
      process.stderr.write(`no job ${jobId}\n`);
      return 1;
    }
    if (job.status !== "COMPLETED") {
      process.stderr.write(`job ${jobId} is ${job.status}${job.error ? `: ${job.error}` : ""}\n`);
      return 1;
    }
    process.stdout.write(await readOutput(s, job, format));
    return 0;
  } finally {
    await s.close();
  }
}
