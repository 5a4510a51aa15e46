/**
 * Fair share of the provider cap between the jobs transcribing at once (issue 18). The segments queue only ever
 * holds a job's share of released segments (pipeline/release-segments.ts), so what one job has queued can
 * never stand in front of everyone else's: a newcomer's segments wait behind at most the others' shares.
 *
 * The shares are max-min fair (water-filling): a job that needs less than an equal part gets all it needs, and
 * what it leaves is split between the others. So twenty 3-segment calls beside a 120-segment recording each
 * get their 3 when the cap allows, and the recording gets the rest; a job alone gets the whole cap.
 */

/** A job on the schedule: how many segments it has (an estimate until it is cut) and since when it transcribes. */
export interface TranscribingJob {
  jobId: string;
  segments: number;
  /** ISO time it was admitted: older jobs get the odd slot the division leaves. */
  since: string;
}

/**
 * Each job's share of `cap`: min(its segments, the level), the level as high as fits the cap; what the floor
 * of an even split leaves goes one slot each to the oldest jobs still wanting more. Every job gets at least
 * one slot, so a job on the schedule always moves, even with more jobs than the cap (then the shares add up
 * to more than the cap, and the extra waits in the queue in arrival order).
 */
export function fairShares(cap: number, jobs: readonly TranscribingJob[]): Map<string, number> {
  const shares = new Map<string, number>();
  const byNeed = [...jobs].sort((a, b) => a.segments - b.segments || byAge(a, b));
  let left = Math.max(1, Math.floor(cap));
  let index = 0;
  // Jobs needing no more than an even split of what is left get all they need.
  for (; index < byNeed.length; index++) {
    const job = byNeed[index];
    const need = Math.max(1, Math.ceil(job.segments));
    if (need * (byNeed.length - index) > left) break;
    shares.set(job.jobId, need);
    left -= need;
  }
  // The rest split what is left evenly; the remainder goes to the oldest of them.
  const rest = byNeed.slice(index).sort(byAge);
  if (rest.length === 0) return shares;
  const even = Math.floor(left / rest.length);
  let extra = left - even * rest.length;
  for (const job of rest) {
    const bonus = extra > 0 ? 1 : 0;
    extra -= bonus;
    shares.set(job.jobId, Math.max(1, even + bonus));
  }
  return shares;
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
