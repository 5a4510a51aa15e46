import type { JobRecord } from "../adapters/job-store.js";
import { storedJobOptions, type JobOptions } from "../domain/options/options.js";

/** Diarized transcription links speakers across segments; translation and --no-diarize have none to link. */
export function settlesSpeakers(options: Pick<JobOptions, "diarize" | "task">): boolean {
  return options.diarize && options.task === "transcribe";
}

/**
 * The fan-in rule, one place for everyone who may ask for the stitch (the
 * transcriber that stores the last result, the speaker settler that settles
 * the last segment, the chunker that finds everything done before it
 * finished): every segment done, and for diarized jobs every segment's
 * speakers settled.
 */
export function readyToStitch(job: JobRecord): boolean {
  if (job.status !== "RUNNING" || job.segmentCount === undefined) return false;
  if ((job.doneSegments?.size ?? 0) < job.segmentCount) return false;
  return !settlesSpeakers(storedJobOptions(job.options)) || (job.speakersSettled ?? 0) >= job.segmentCount;
}
