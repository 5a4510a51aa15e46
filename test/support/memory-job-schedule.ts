import type { TranscribingJob } from "../../shared/domain/jobs/fair-share.js";
import type { JobSchedule, QueuedJob, ScheduleSnapshot } from "../../shared/adapters/job-schedule.js";

/** adapters/job-schedule.ts's ScheduleStore in memory, with the same rules: for unit tests of the steps. */
export class MemoryJobSchedule implements JobSchedule {
  readonly running = new Map<string, string>();
  readonly transcribing = new Map<string, TranscribingJob>();
  readonly queued = new Map<string, QueuedJob>();

  async admit(job: TranscribingJob, maxRunning: number): Promise<boolean> {
    if (!this.running.has(job.jobId) && this.running.size >= maxRunning) return false;
    if (!this.running.has(job.jobId)) this.running.set(job.jobId, job.since);
    if (!this.transcribing.has(job.jobId)) this.transcribing.set(job.jobId, { ...job });
    return true;
  }

  async doneTranscribing(jobId: string): Promise<void> {
    this.transcribing.delete(jobId);
  }

  async leave(jobId: string): Promise<void> {
    this.running.delete(jobId);
    this.transcribing.delete(jobId);
  }

  async snapshot(): Promise<ScheduleSnapshot> {
    return { running: [...this.running.keys()], transcribing: [...this.transcribing.values()].map((job) => ({ ...job })) };
  }

  async enqueue(job: QueuedJob): Promise<void> {
    this.queued.set(`${job.queuedAt}#${job.jobId}`, { ...job });
  }

  async dequeue(job: Pick<QueuedJob, "jobId" | "queuedAt">): Promise<void> {
    this.queued.delete(`${job.queuedAt}#${job.jobId}`);
  }

  async oldestQueued(limit: number): Promise<QueuedJob[]> {
    return [...this.queued.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([, job]) => ({ ...job }));
  }
}
