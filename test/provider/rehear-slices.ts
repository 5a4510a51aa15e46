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
import { ANCHOR_BITS, ANCHOR_WINDOW as WINDOW, anchorHash, QUIET } from "./sample-anchors.js";

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
  private readonly anchors = new AnchorTable();
  private indexed = 0;

  /** Remembers an upload and where it was found. */
  add(samples: Int16Array, pieces: readonly LocatedPiece[]): void {
    if (pieces.length === 0) return;
    if (this.indexed + samples.length > MAX_INDEXED_SAMPLES) this.clear();
    const upload = this.uploads.push({ samples, pieces }) - 1;
    this.indexed += samples.length;
    for (let at = 0; at + WINDOW <= samples.length; at++) {
      const hash = anchorHash(samples, at);
      if (hash !== undefined) this.anchors.add(hash, upload, at);
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
      for (const known of this.anchors.get(hash)) {
        const from = known.at - (at - start);
        const samples = this.uploads[known.upload].samples;
        if (from >= 0 && from + (end - start) <= samples.length && equalAt(upload, start, end, samples, from)) return { upload: known.upload, at: from };
      }
      return undefined;
    }
    return undefined;
  }
}

/**
 * Anchor hash -> (upload, position) entries, in typed arrays: a benchmark indexes hours of segments, a million
 * anchors or so, and as a million small objects they made every garbage collection of the stand-in mark them
 * (a third of its CPU). An anchor hash has its low ANCHOR_BITS bits zero, so the rest (24 bits) picks a chain.
 */
class AnchorTable {
  private heads: Int32Array | undefined;
  private uploadOf = new Int32Array(1 << 16);
  private atOf = new Int32Array(1 << 16);
  private next = new Int32Array(1 << 16);
  private count = 0;

  add(hash: number, upload: number, at: number): void {
    const heads = (this.heads ??= new Int32Array(1 << (32 - ANCHOR_BITS)).fill(-1));
    if (this.count === this.next.length) this.grow();
    const entry = this.count++;
    const key = hash >>> ANCHOR_BITS;
    this.uploadOf[entry] = upload;
    this.atOf[entry] = at;
    this.next[entry] = heads[key];
    heads[key] = entry;
  }

  *get(hash: number): Generator<{ upload: number; at: number }> {
    if (!this.heads) return;
    for (let entry = this.heads[hash >>> ANCHOR_BITS]; entry >= 0; entry = this.next[entry]) {
      yield { upload: this.uploadOf[entry], at: this.atOf[entry] };
    }
  }

  clear(): void {
    this.heads?.fill(-1);
    this.count = 0;
  }

  private grow(): void {
    const size = this.next.length * 2;
    const grown = (from: Int32Array) => {
      const to = new Int32Array(size);
      to.set(from);
      return to;
    };
    this.uploadOf = grown(this.uploadOf);
    this.atOf = grown(this.atOf);
    this.next = grown(this.next);
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
