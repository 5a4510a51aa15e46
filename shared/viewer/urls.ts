/**
 * The viewer's addresses: where `stt up` serves it, and what its URLs accept as ids, checked before anything
 * is looked up. A job id is the hex digest shared/pipeline/job-id.ts makes; a speaker id is a global label
 * (shared/domain/speakers/speaker-labels.ts). Kept free of imports: the command line reads it.
 */
export const DEFAULT_VIEWER_PORT = 4569;

export const JOB_ID_PATTERN = /^[0-9a-f]{24}$/;
export const SPEAKER_ID_PATTERN = /^SPEAKER_\d{2,3}$/;

export const isJobId = (value: string): boolean => JOB_ID_PATTERN.test(value);
export const isSpeakerId = (value: string): boolean => SPEAKER_ID_PATTERN.test(value);

/** A job's page on a viewer server (`http://127.0.0.1:4569`). */
export const viewerJobUrl = (viewerUrl: string, jobId: string): string => `${viewerUrl.replace(/\/$/, "")}/jobs/${jobId}`;
