/**
 * Finds where an upload's audio sits inside the known recordings, piece by piece, from the audio
 * alone: propose placements from matching sound events, choose among them frame by frame, refine
 * each chosen placement to the sample, refine where one piece hands over to the next, and cut each
 * piece back to where its recording really explains the upload.
 */
import type { Recording } from "../audio/recording.js";
import { findCandidates } from "./candidates.js";
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
    const candidates = findCandidates(envelope, [...this.targets.values()]);
    if (candidates.length === 0) return [];
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
