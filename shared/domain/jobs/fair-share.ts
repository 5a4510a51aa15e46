/**
 * Shares of the provider cap between the jobs transcribing at once (issue 18). The segments queue only ever
 * holds a job's share of released segments (pipeline/release-segments.ts), so what one job has queued can
 * never stand in front of everyone else's: a newcomer's segments wait behind at most the others' shares.
 *
 * Smallest job first, every job at least one slot: each job has one, and what the cap has beyond that goes to
 * the jobs with the fewest segments, each up to all it needs (oldest first among equals). A three-minute call
 * dropped beside a day-long recording gets all its segments out at once, and the recording keeps moving on
 * its one slot until the calls are through, then takes the whole cap again; a job alone always gets the whole
 * cap. Sharing the cap evenly instead (max-min) stretches every short job over rounds of one or two requests
 * and delays the long one just as much (the same work goes first either way): with twenty 3-minute calls
 * beside a 4-hour recording it left each call a share of about one and a half requests.
 */

/** A job on the schedule: how many segments it has (an estimate until it is cut) and since when it transcribes. */
export interface TranscribingJob {
  jobId: string;
  segments: number;
  /** ISO time it was admitted: among jobs of one size, the older goes first. */
  since: string;
}

/**
 * Each job's share of `cap`: one slot each, then the rest to the smallest jobs (fewest segments; the oldest
 * first among equals), each up to its segments, until the cap is spent. With more jobs than the cap the shares
 * add up to more than it (one each), and the extra waits in the queue in arrival order.
 */
export function fairShares(cap: number, jobs: readonly TranscribingJob[]): Map<string, number> {
  const shares = new Map<string, number>();
  const bySize = [...jobs].sort((a, b) => need(a) - need(b) || byAge(a, b));
  let left = Math.max(1, Math.floor(cap)) - jobs.length;
  for (const job of bySize) {
    const extra = Math.max(0, Math.min(need(job) - 1, left));
    shares.set(job.jobId, 1 + extra);
    left -= extra;
  }
  return shares;
}

function need(job: TranscribingJob): number {
  return Math.max(1, Math.ceil(job.segments));
}

function byAge(a: TranscribingJob, b: TranscribingJob): number {
  return a.since < b.since ? -1 : a.since > b.since ? 1 : a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0;
}

/** Where a job's releases stand: segments cut (a prefix), released (a prefix), and done (all released). */
export interface ReleaseState {
  cut: number;
  released: number;
  done: number;
}

/**
 * How many of the job's segments should be released in all: enough that `share` are queued or in flight, no
 * more than are cut, and never fewer than already are (a release is never taken back; a job over its share
 * after others arrived just releases nothing until it is under it again).
 */
export function releaseTarget(state: ReleaseState, share: number): number {
  const wanted = Math.min(state.cut, state.done + Math.max(0, share));
  return Math.max(state.released, wanted);
}

/** Segments a job of `durationSeconds` is expected to be cut into, per lane, for its share before it is cut. */
export function expectedSegments(durationSeconds: number | undefined, segmentSeconds: number, lanes: number, unknown: number): number {
  if (durationSeconds === undefined || !Number.isFinite(durationSeconds) || durationSeconds <= 0) return unknown;
  return Math.max(1, Math.ceil(durationSeconds / Math.max(1, segmentSeconds))) * Math.max(1, lanes);
}
