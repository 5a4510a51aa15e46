import { BYTES_PER_SAMPLE } from "./ffmpeg.js";

/**
 * The stretch of decoded PCM that is still needed: from the start of the
 * next segment to the decoding head. Older audio is dropped as segments are
 * cut, so memory stays bounded by one segment plus look-ahead, whatever the
 * length of the recording.
 */
export class PcmWindow {
  private chunks: Buffer[] = [];
  /** Sample index of the first sample held. */
  private firstSample = 0;
  private heldSamples = 0;
  private pendingByte: Buffer | null = null;

  /** Appends raw s16le bytes (chunks may split a sample); returns the whole samples added. */
  append(bytes: Buffer): Int16Array {
    let data = bytes;
    if (this.pendingByte) {
      data = Buffer.concat([this.pendingByte, bytes]);
      this.pendingByte = null;
    }
    const usable = data.length - (data.length % BYTES_PER_SAMPLE);
    if (usable < data.length) this.pendingByte = Buffer.from(data.subarray(usable));
    if (usable === 0) return new Int16Array(0);
    // An Int16Array needs an even byte offset: copy only the chunks that do not have one.
    const owned = data.byteOffset % BYTES_PER_SAMPLE === 0 ? data.subarray(0, usable) : Buffer.from(data.subarray(0, usable));
    this.chunks.push(owned);
    this.heldSamples += usable / BYTES_PER_SAMPLE;
    return new Int16Array(owned.buffer, owned.byteOffset, usable / BYTES_PER_SAMPLE);
  }

  get endSample(): number {
    return this.firstSample + this.heldSamples;
  }

  /**
   * Copies samples [from, to) out of the window, into a buffer from `allocate`
   * (given the byte length; a fresh one by default).
   */
  slice(from: number, to: number, allocate: (bytes: number) => Buffer = Buffer.allocUnsafeSlow): Buffer {
    const start = Math.max(from, this.firstSample);
    const end = Math.min(to, this.endSample);
    // Every byte is written below, so the zero fill of Buffer.alloc would be wasted work.
    const out = allocate(Math.max(0, end - start) * BYTES_PER_SAMPLE);
    let chunkStart = this.firstSample;
    let written = 0;
    for (const chunk of this.chunks) {
      const chunkSamples = chunk.length / BYTES_PER_SAMPLE;
      const chunkEnd = chunkStart + chunkSamples;
      if (chunkEnd > start && chunkStart < end) {
        const a = Math.max(start, chunkStart) - chunkStart;
        const b = Math.min(end, chunkEnd) - chunkStart;
        chunk.copy(out, written, a * BYTES_PER_SAMPLE, b * BYTES_PER_SAMPLE);
        written += (b - a) * BYTES_PER_SAMPLE;
      }
      chunkStart = chunkEnd;
      if (chunkStart >= end) break;
    }
    return out;
  }

  /** Forgets whole chunks that end before `sample`. */
  dropBefore(sample: number): void {
    while (this.chunks.length > 0) {
      const samples = this.chunks[0].length / BYTES_PER_SAMPLE;
      if (this.firstSample + samples > sample) break;
      this.chunks.shift();
      this.firstSample += samples;
      this.heldSamples -= samples;
    }
  }
}
