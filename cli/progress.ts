import type { JobRecord } from "../shared/adapters/job-store.js";

/**
 * The progress line, from the job record: `segments 3/12, speakers settled 2/12`. While the pipeline retries
 * (the job's `lastError` changed and no segment has finished since), it says why:
 * `segments 0/12, retrying: provider unreachable (ECONNREFUSED)`. A queued job says it waits, and since when.
 */
export function progressLine(): (job: JobRecord) => string {
  let lastError: string | undefined;
  let doneAtError = 0;
  return (job) => {
    const done = job.doneSegments?.size ?? 0;
    if (job.lastError !== lastError) {
      lastError = job.lastError;
      doneAtError = done;
    }
    const speakers = job.speakersSettled === undefined ? "" : `, speakers settled ${job.speakersSettled}/${job.segmentCount}`;
    const line =
      job.status === "QUEUED"
        ? `queued since ${job.queuedAt ?? "?"}: waiting for a running job to end (maxRunningJobs)`
        : job.segmentCount === undefined
          ? "chunking..."
          : `segments ${done}/${job.segmentCount}${speakers}`;
    return lastError !== undefined && done === doneAtError ? `${line}, retrying: ${lastError}` : line;
  };
}
