/**
 * Finds where an upload's audio sits inside the known recordings, piece by piece, from the audio
 * alone: propose placements from matching sound events, choose among them frame by frame, refine
 * each chosen placement to the sample, refine where one piece hands over to the next, and cut each
 * piece back to where its recording really explains the upload.
 */
import type { Recording } from "../audio/recording.js";
import { findCandidates, type Candidate } from "./candidates.js";
import { FRAME_SAMPLES, frameEnvelope } from "./envelope.js";
import { indexRecording, type IndexedRecording } from "./indexed-recording.js";
import { refineBoundary } from "./refine-boundary.js";
import { refineOffset } from "./refine-offset.js";
import { segmentUpload } from "./segment.js";
import { trimToEvidence } from "./trim-to-evidence.js";

export interface LocatedPiece {
  recording: Recording;
  /** Upload samples [uploadStart, uploadEnd) are recording samples shifted by offset. */
  uploadStart: number;
  uploadEnd: number;
  /** Recording sample = upload sample + offset. */
  offset: number;
}

interface Stretch {
  recording: Recording | null;
  uploadStart: number;
  uploadEnd: number;
  offset: number;
}

export class AudioLocator {
  private readonly targets = new Map<string, IndexedRecording>();

  add(recording: Recording): void {
    this.targets.set(recording.id, indexRecording(recording));
  }

  clear(): void {
    this.targets.clear();
  }

  get recordings(): Recording[] {
    return [...this.targets.values()].map((target) => target.recording);
  }

  /** The pieces of the upload that known recordings explain, in upload order. */
  locate(upload: Int16Array): LocatedPiece[] {
    const envelope = frameEnvelope(upload);
    const targets = [...this.targets.values()];
    let candidates = findCandidates(envelope, targets);
    if (candidates.length === 0) return [];
    if (upload.length < SHORT_UPLOAD_SAMPLES && candidates.length > 1) {
      // The usual few envelope fits first; all of them only when none of those explains the waveform.
      candidates = byWaveform(upload, candidates) ?? byWaveform(upload, findCandidates(envelope, targets, SHORT_UPLOAD_SINGLE_KEEP)) ?? candidates;
    }
    const runs = segmentUpload(envelope, candidates);
    const stretches: Stretch[] = runs.map((run, index) => {
      const uploadStart = run.startFrame * FRAME_SAMPLES;
      // The envelope drops a trailing partial frame; the last stretch still owns the last samples.
      const uploadEnd = index === runs.length - 1 ? upload.length : run.endFrame * FRAME_SAMPLES;
      if (run.candidate === -1) return { recording: null, uploadStart, uploadEnd, offset: 0 };
      const candidate = candidates[run.candidate];
      const recording = candidate.target.recording;
      const offset = refineOffset(upload, recording.samples, uploadStart, uploadEnd, candidate.offsetFrames);
      return { recording, uploadStart, uploadEnd, offset };
    });
    refineBoundaries(upload, stretches);
    for (const stretch of stretches) {
      if (!stretch.recording) continue;
      const trimmed = trimToEvidence(upload, stretch.uploadStart, stretch.uploadEnd, {
        samples: stretch.recording.samples,
        offset: stretch.offset,
      });
      stretch.uploadStart = trimmed.start;
      stretch.uploadEnd = trimmed.end;
    }
    return stretches.flatMap((stretch) =>
      stretch.recording && stretch.uploadEnd > stretch.uploadStart ? [{ ...stretch, recording: stretch.recording }] : [],
    );
  }
}

/** A few words at most: one placement explains all of it, and the envelope alone may fit several. */
const SHORT_UPLOAD_SAMPLES = 3 * 16000;
/** A short upload keeps this many envelope fits of a lone word, for byWaveform to choose from. */
const SHORT_UPLOAD_SINGLE_KEEP = 64;
/** Residual energy share under which a placement explains the waveform (lossy codecs leave ~1-10 %; a lag off by a sample or two, more). */
const WAVEFORM_FIT = 0.25;

/**
 * For a short upload (a live piece of one or two words), the envelope of a lone word can fit the same
 * word, or a look-alike, said elsewhere; a model hears the waveform, so the placement whose samples explain
 * the upload best is kept, if one explains it at all (undefined: none does).
 */
function byWaveform(upload: Int16Array, candidates: Candidate[]): Candidate[] | undefined {
  let best: { candidate: Candidate; residual: number } | undefined;
  for (const candidate of candidates) {
    const residual = coarseResidual(upload, candidate.target.recording.samples, candidate.offsetFrames * FRAME_SAMPLES);
    if (!best || residual < best.residual) best = { candidate, residual };
  }
  return best && best.residual < WAVEFORM_FIT ? [best.candidate] : undefined;
}

/** Lags around the envelope's offset that the coarse comparison tries, and its stride over samples. */
const COARSE_REACH = 2 * FRAME_SAMPLES;
const COARSE_LAG_STEP = 2;
const COARSE_SAMPLE_STEP = 16;

/**
 * The smallest residual share (energy of upload - recording, over the upload's) at lags near `offset`,
 * on a subsample: cheap enough for every envelope fit of a word, and decisive between the right place
 * (near zero) and the same word or a look-alike elsewhere (near or above one).
 */
function coarseResidual(upload: Int16Array, recording: Int16Array, offset: number): number {
  let energy = 0;
  for (let at = 0; at < upload.length; at += COARSE_SAMPLE_STEP) energy += upload[at] * upload[at];
  if (energy === 0) return 1;
  let best = Infinity;
  for (let lag = offset - COARSE_REACH; lag <= offset + COARSE_REACH; lag += COARSE_LAG_STEP) {
    let residual = 0;
    for (let at = 0; at < upload.length && residual < best; at += COARSE_SAMPLE_STEP) {
      const r = at + lag >= 0 && at + lag < recording.length ? recording[at + lag] : 0;
      residual += (upload[at] - r) * (upload[at] - r);
    }
    best = Math.min(best, residual);
  }
  return best / energy;
}

function refineBoundaries(upload: Int16Array, stretches: Stretch[]): void {
  const explain = (stretch: Stretch) => (stretch.recording ? { samples: stretch.recording.samples, offset: stretch.offset } : null);
  for (let index = 1; index < stretches.length; index++) {
    const left = stretches[index - 1];
    const right = stretches[index];
    const boundary = refineBoundary(upload, right.uploadStart, explain(left), explain(right), {
      min: left.uploadStart,
      max: right.uploadEnd,
    });
    left.uploadEnd = boundary;
    right.uploadStart = boundary;
  }
}
