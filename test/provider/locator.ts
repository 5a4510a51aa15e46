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
    const short = upload.length < SHORT_UPLOAD_SAMPLES;
    const found = findCandidates(envelope, [...this.targets.values()], short ? SHORT_UPLOAD_SINGLE_KEEP : undefined);
    if (found.length === 0) return [];
    const candidates = short ? byWaveform(upload, found) : found;
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
/** Residual energy share under which a placement explains the waveform (lossy codecs leave ~1-10 %). */
const WAVEFORM_FIT = 0.25;

/**
 * For a short upload (a live piece of one or two words), the envelope of a lone word can fit the same
 * word, or a look-alike, said elsewhere; a model hears the waveform, so the placement whose samples explain
 * the upload best is kept, if one explains it at all (otherwise the envelope's choice stands).
 */
function byWaveform(upload: Int16Array, candidates: Candidate[]): Candidate[] {
  if (candidates.length < 2) return candidates;
  let best: { candidate: Candidate; residual: number } | undefined;
  for (const candidate of candidates) {
    const recording = candidate.target.recording.samples;
    const offset = refineOffset(upload, recording, 0, upload.length, candidate.offsetFrames);
    const residual = residualShare(upload, recording, offset);
    if (!best || residual < best.residual) best = { candidate, residual };
  }
  return best && best.residual < WAVEFORM_FIT ? [best.candidate] : candidates;
}

/** Energy of (upload - recording shifted by offset) over the upload's energy. */
function residualShare(upload: Int16Array, recording: Int16Array, offset: number): number {
  let energy = 0;
  let residual = 0;
  for (let at = 0; at < upload.length; at++) {
    const r = at + offset >= 0 && at + offset < recording.length ? recording[at + offset] : 0;
    energy += upload[at] * upload[at];
    residual += (upload[at] - r) * (upload[at] - r);
  }
  return energy === 0 ? 1 : residual / energy;
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
