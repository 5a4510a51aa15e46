import { BYTES_PER_SAMPLE } from "./ffmpeg.js";
import { EnvelopeMeter } from "./decode-pcm.js";

/**
 * A segment's energy envelope as stored beside its audio: one signed byte of
 * dBFS per 10 ms frame (12 KB for a 2-minute segment), which the transcriber
 * reads to snap word starts to speech onsets (refine-starts.ts).
 */
export function pcmEnvelope(pcm: Buffer): Uint8Array {
  const aligned = pcm.byteOffset % BYTES_PER_SAMPLE === 0 ? pcm : Buffer.from(pcm);
  const samples = new Int16Array(aligned.buffer, aligned.byteOffset, Math.floor(aligned.byteLength / BYTES_PER_SAMPLE));
  const meter = new EnvelopeMeter();
  const head = meter.push(samples);
  const tail = meter.flush();
  const bytes = new Int8Array(head.length + tail.length);
  toBytes(head, bytes, 0);
  toBytes(tail, bytes, head.length);
  return new Uint8Array(bytes.buffer);
}

function toBytes(frames: Float32Array, out: Int8Array, at: number): void {
  for (let i = 0; i < frames.length; i++) out[at + i] = envelopeByte(frames[i]);
}

function envelopeByte(db: number): number {
  return Math.max(-127, Math.min(0, Math.round(Number.isFinite(db) ? db : -127)));
}

/**
 * The stored-envelope bytes of the recording's frames still needed, so that a
 * segment's envelope is cut from the frames the chunker already measured for
 * planning instead of being measured again from its PCM. Exact: a segment
 * that starts on a frame boundary has the same frames (the same samples
 * summed in the same order) as the recording there, and its last partial
 * frame, if any, is the recording's own last frame.
 */
export class EnvelopeWindow {
  private bytes = new Int8Array(0);
  /** Frame index of bytes[0]. */
  private base = 0;
  private stored = 0;
  /** Set once the recording ended: its length in samples (its last frame may be partial). */
  private endSample: number | null = null;

  /** Appends the next frames, as EnvelopeMeter returns them. */
  append(frames: Float32Array): void {
    if (this.stored + frames.length > this.bytes.length) {
      const grown = new Int8Array(Math.max(2 * this.bytes.length, this.stored + frames.length, 4096));
      grown.set(this.bytes.subarray(0, this.stored));
      this.bytes = grown;
    }
    toBytes(frames, this.bytes, this.stored);
    this.stored += frames.length;
  }

  /** The recording ended after `totalSamples` (the meter's flushed frame was appended). */
  end(totalSamples: number): void {
    this.endSample = totalSamples;
  }

  /**
   * What pcmEnvelope gives for samples [from, to) of the recording, or null
   * when it cannot be cut from the frames held (a start off the frame grid,
   * a partial frame before the end, frames already dropped): then measure
   * the PCM.
   */
  slice(from: number, to: number): Uint8Array | null {
    const size = EnvelopeMeter.FRAME_SAMPLES;
    if (from % size !== 0 || to <= from) return null;
    const first = from / size;
    let last = Math.floor(to / size);
    if (to % size !== 0) {
      if (to !== this.endSample) return null;
      last++;
    }
    if (first < this.base || last > this.base + this.stored) return null;
    return Uint8Array.from(new Uint8Array(this.bytes.buffer, first - this.base, last - first));
  }

  /** Forgets frames that end before `sample`. */
  dropBefore(sample: number): void {
    const drop = Math.min(this.stored, Math.floor(sample / EnvelopeMeter.FRAME_SAMPLES) - this.base);
    if (drop <= 0) return;
    this.bytes.copyWithin(0, drop, this.stored);
    this.stored -= drop;
    this.base += drop;
  }
}
