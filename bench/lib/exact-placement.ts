/**
 * Where a lossless upload really comes from: the known recording and sample at which its samples appear
 * exactly. The realtime gateway sends slices of what its clients streamed, sample for sample, so this is
 * the truth against which the ground-truth provider's own locator (which hears only loudness envelopes,
 * as it must for lossy uploads) can be checked. Instrumentation for benchmarks, not part of the provider.
 *
 * Recordings are indexed at content-defined anchors (test/provider/sample-anchors.ts). An upload is hashed
 * from its start until its first anchor; each recording position with that hash is then checked sample by
 * sample over the whole upload.
 */
import type { Recording } from "../../test/audio/recording.js";
import { ANCHOR_WINDOW as WINDOW, anchorHash } from "../../test/provider/sample-anchors.js";

export interface Placement {
  recording: Recording;
  /** Recording sample of the upload's first sample. */
  start: number;
}

export class ExactPlacer {
  private readonly anchors = new Map<number, Array<{ recording: Recording; at: number }>>();

  add(recording: Recording): void {
    const samples = recording.samples;
    for (let at = 0; at + WINDOW <= samples.length; at++) {
      const hash = anchorHash(samples, at);
      if (hash === undefined) continue;
      const list = this.anchors.get(hash);
      if (list) list.push({ recording, at });
      else this.anchors.set(hash, [{ recording, at }]);
    }
  }

  /**
   * Every recording and sample the whole upload equals: none for a lossy, spliced, unknown or silent
   * upload; more than one when the same clip, with silence around it, was placed in several recordings
   * (generated speech reuses its clips), which no listener could tell apart.
   */
  place(upload: Int16Array): Placement[] {
    for (let at = 0; at + WINDOW <= upload.length; at++) {
      const hash = anchorHash(upload, at);
      if (hash === undefined) continue;
      // The first anchor decides: a lossless slice of a known recording has its anchors where the recording does.
      return (this.anchors.get(hash) ?? []).flatMap((known) => {
        const start = known.at - at;
        const fits = start >= 0 && start + upload.length <= known.recording.samples.length && equalAt(upload, known.recording.samples, start);
        return fits ? [{ recording: known.recording, start }] : [];
      });
    }
    return [];
  }
}

function equalAt(upload: Int16Array, recording: Int16Array, start: number): boolean {
  for (let i = 0; i < upload.length; i++) if (upload[i] !== recording[start + i]) return false;
  return true;
}
