/**
 * Uploads made of exact slices of uploads this stand-in located before, placed through those uploads instead of
 * by searching the recordings again (the `rehearSlices` option). A speaker probe is such an upload: pieces cut
 * sample for sample from segments it transcribed (lossless FLAC both ways), laid out between stretches of digital
 * silence. Locating one from scratch costs the stand-in ~0.4 s of CPU against a score of recordings, which on a
 * benchmark's machine is taken from the pipeline it measures; a real provider's compute is elsewhere.
 *
 * Every stretch of sound between runs of exact zeros must be found, whole and sample for sample, in one earlier
 * upload; its pieces are then that upload's located pieces over the same samples, shifted. Anything else (a lossy
 * upload, audio never heard, a stretch with no anchor) gets `undefined`, and the caller locates it as usual.
 * Earlier uploads are indexed at content-defined anchors (sample-anchors.ts).
 */
import type { LocatedPiece } from "./locator.js";
import { ANCHOR_WINDOW as WINDOW, anchorHash, QUIET } from "./sample-anchors.js";

/** Exact zeros in a row that separate two stretches (a probe's gaps are far longer; speech has none this long). */
const GAP_SAMPLES = 160;
/** Samples of audio indexed at most; past it the index starts over (a benchmark's uploads stay well inside). */
const MAX_INDEXED_SAMPLES = 16_000 * 3600 * 8;

interface HeardUpload {
  samples: Int16Array;
  pieces: readonly LocatedPiece[];
}

export class RehearSlices {
  private uploads: HeardUpload[] = [];
  private anchors = new Map<number, Array<{ upload: number; at: number }>>();
  private indexed = 0;

  /** Remembers an upload and where it was found. */
  add(samples: Int16Array, pieces: readonly LocatedPiece[]): void {
    if (pieces.length === 0) return;
    if (this.indexed + samples.length > MAX_INDEXED_SAMPLES) this.clear();
    const upload = this.uploads.push({ samples, pieces }) - 1;
    this.indexed += samples.length;
    for (let at = 0; at + WINDOW <= samples.length; at++) {
      const hash = anchorHash(samples, at);
      if (hash === undefined) continue;
      const list = this.anchors.get(hash);
      if (list) list.push({ upload, at });
      else this.anchors.set(hash, [{ upload, at }]);
    }
  }

  clear(): void {
    this.uploads = [];
    this.anchors.clear();
    this.indexed = 0;
  }

  /** The upload's pieces, from the earlier uploads its every stretch of sound is an exact slice of; else undefined. */
  place(upload: Int16Array): LocatedPiece[] | undefined {
    const stretches = soundStretches(upload);
    if (stretches.length === 0) return undefined;
    const found = stretches.map(([start, end]) => this.find(upload, start, end));
    // A stretch too short (or too quiet) for an anchor: a slice goes on past its gaps of silence, so try where
    // the stretches beside it were found.
    for (const [i, [start, end]] of stretches.entries()) {
      if (found[i]) continue;
      const near = [found[i - 1] && { ...found[i - 1]!, from: stretches[i - 1][0] }, found[i + 1] && { ...found[i + 1]!, from: stretches[i + 1][0] }];
      for (const neighbour of near) {
        if (!neighbour) continue;
        const at = neighbour.at + (start - neighbour.from);
        const samples = this.uploads[neighbour.upload].samples;
        if (at >= 0 && at + (end - start) <= samples.length && equalAt(upload, start, end, samples, at)) {
          found[i] = { upload: neighbour.upload, at };
          break;
        }
      }
    }
    // Stretches found at one shift in one upload, with its samples between them silent too, are one slice:
    // words that run across such a gap are heard whole, as in the upload they were cut from.
    const ranges: Array<{ start: number; end: number; upload: number; shift: number }> = [];
    for (const [i, [start, end]] of stretches.entries()) {
      const where = found[i];
      if (!where) {
        // A stretch that is only a noise floor holds no words: nothing to place.
        if (isQuiet(upload, start, end)) continue;
        return undefined;
      }
      // Earlier-upload sample = this upload's sample + shift.
      const shift = where.at - start;
      const last = ranges[ranges.length - 1];
      if (last && last.upload === where.upload && last.shift === shift && silentBetween(this.uploads[where.upload].samples, last.end + shift, start + shift)) {
        last.end = end;
      } else {
        ranges.push({ start, end, upload: where.upload, shift });
      }
    }
    const placed: LocatedPiece[] = [];
    for (const { start, end, upload: heard, shift } of ranges) {
      for (const piece of this.uploads[heard].pieces) {
        const from = Math.max(piece.uploadStart, start + shift);
        const to = Math.min(piece.uploadEnd, end + shift);
        if (to <= from) continue;
        placed.push({ recording: piece.recording, uploadStart: from - shift, uploadEnd: to - shift, offset: piece.offset + shift });
      }
    }
    return placed.length > 0 ? placed : undefined;
  }

  /** Where upload[start, end) sits, sample for sample, in an earlier upload: the first anchor decides. */
  private find(upload: Int16Array, start: number, end: number): { upload: number; at: number } | undefined {
    for (let at = start; at + WINDOW <= end; at++) {
      const hash = anchorHash(upload, at);
      if (hash === undefined) continue;
      for (const known of this.anchors.get(hash) ?? []) {
        const from = known.at - (at - start);
        const samples = this.uploads[known.upload].samples;
        if (from >= 0 && from + (end - start) <= samples.length && equalAt(upload, start, end, samples, from)) return { upload: known.upload, at: from };
      }
      return undefined;
    }
    return undefined;
  }
}

/** [start, end) of each stretch of sound: from a non-zero sample to the last one before GAP_SAMPLES exact zeros. */
export function soundStretches(samples: Int16Array): Array<[number, number]> {
  const stretches: Array<[number, number]> = [];
  let i = 0;
  while (i < samples.length) {
    while (i < samples.length && samples[i] === 0) i++;
    if (i >= samples.length) break;
    const start = i;
    let last = i;
    for (let zeros = 0; i < samples.length; i++) {
      if (samples[i] !== 0) {
        zeros = 0;
        last = i;
      } else if (++zeros >= GAP_SAMPLES) break;
    }
    stretches.push([start, last + 1]);
  }
  return stretches;
}

function silentBetween(samples: Int16Array, from: number, to: number): boolean {
  for (let i = Math.max(0, from); i < Math.min(to, samples.length); i++) if (samples[i] !== 0) return false;
  return from >= 0 && to <= samples.length;
}

function isQuiet(samples: Int16Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (samples[i] >= QUIET || samples[i] <= -QUIET) return false;
  return true;
}

function equalAt(upload: Int16Array, start: number, end: number, earlier: Int16Array, from: number): boolean {
  for (let i = start; i < end; i++) if (upload[i] !== earlier[from + i - start]) return false;
  return true;
}
