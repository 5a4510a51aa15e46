import { createHash } from "node:crypto";
import { BYTES_PER_SAMPLE, SAMPLE_RATE } from "./ffmpeg.js";

/**
 * A FLAC encoder for the pipeline's one format (16 kHz mono s16le), in process.
 *
 * Why not ffmpeg: the chunker encodes one segment per ~minute of audio, and an
 * ffmpeg process per segment costs more than decoding that minute did (process
 * start-up, a synchronous fork of a large Node process, then ~90 ns a sample),
 * so on a small Lambda the encoders, not the decoder, set the chunker's pace.
 * Fixed linear predictors (orders 0-4) with partitioned Rice coding, as the
 * FLAC format defines them, are within a few percent of ffmpeg's LPC for speech
 * and need no child process at all. The output is a standard FLAC stream (RFC
 * 9639: STREAMINFO with the MD5 of the samples, CRC-8 and CRC-16 per frame),
 * lossless: any decoder gives back exactly the samples that went in.
 */
export function encodeFlacPcm(pcm: Buffer): Buffer {
  const count = Math.floor(pcm.length / BYTES_PER_SAMPLE);
  const samples = toInt16(pcm, count);
  // Worst case is every frame verbatim: 2 bytes a sample plus a frame header and CRC.
  const frames = Math.ceil(count / BLOCK_SIZE);
  const out = new BitWriter(STREAM_HEADER_BYTES + count * BYTES_PER_SAMPLE + frames * MAX_FRAME_OVERHEAD + 16);
  writeStreamHeader(out, count, createHash("md5").update(pcm.subarray(0, count * BYTES_PER_SAMPLE)).digest());

  const residual = new Int32Array(BLOCK_SIZE);
  let minFrame = Infinity;
  let maxFrame = 0;
  for (let frame = 0; frame < frames; frame++) {
    const start = frame * BLOCK_SIZE;
    const block = samples.subarray(start, Math.min(count, start + BLOCK_SIZE));
    const frameStart = out.bytePosition;
    writeFrameHeader(out, frame, block.length);
    writeSubframe(out, block, residual);
    out.alignToByte();
    out.writeBits(crc16(out.bytes, frameStart, out.bytePosition), 16);
    const size = out.bytePosition - frameStart;
    minFrame = Math.min(minFrame, size);
    maxFrame = Math.max(maxFrame, size);
  }
  const bytes = out.finish();
  if (frames > 0) {
    // Frame sizes are only known now: patch them into STREAMINFO (bytes 12-17 of the stream).
    writeUint24(bytes, 12, minFrame);
    writeUint24(bytes, 15, maxFrame);
  }
  return bytes;
}

/** Samples per frame: FLAC's usual size at this rate (256 ms), one of the sizes a header codes in 4 bits. */
const BLOCK_SIZE = 4096;
const BLOCK_SIZE_CODE = 0b1100;
const SAMPLE_RATE_CODE_16K = 0b0101;
const SAMPLE_SIZE_CODE_16 = 0b100;
const BITS_PER_SAMPLE = 16;
const MAX_ORDER = 4;
const MAX_PARTITION_ORDER = 6;
/** A 4-bit Rice parameter; 15 would mean an escaped (raw) partition, which is never needed here. */
const MAX_RICE_PARAMETER = 14;
const STREAM_HEADER_BYTES = 4 + 4 + 34;
/** Frame header (at most 16 bytes with a 16-bit block size and a 3-byte frame number), subframe header, CRC-16. */
const MAX_FRAME_OVERHEAD = 16 + 1 + 2;

function toInt16(pcm: Buffer, count: number): Int16Array {
  if (pcm.byteOffset % 2 === 0) return new Int16Array(pcm.buffer, pcm.byteOffset, count);
  const copy = new Int16Array(count);
  new Uint8Array(copy.buffer).set(pcm.subarray(0, count * 2));
  return copy;
}

function writeStreamHeader(out: BitWriter, totalSamples: number, md5: Buffer): void {
  out.writeBits(0x664c6143, 32); // "fLaC"
  out.writeBits(1, 1); // last metadata block
  out.writeBits(0, 7); // STREAMINFO
  out.writeBits(34, 24);
  out.writeBits(BLOCK_SIZE, 16); // min block size (the last block may be shorter, as the format allows)
  out.writeBits(BLOCK_SIZE, 16); // max block size
  out.writeBits(0, 24); // min frame size, patched at the end
  out.writeBits(0, 24); // max frame size, patched at the end
  out.writeBits(SAMPLE_RATE, 20);
  out.writeBits(0, 3); // channels - 1
  out.writeBits(BITS_PER_SAMPLE - 1, 5);
  out.writeBits(Math.floor(totalSamples / 2 ** 32), 4);
  out.writeBits(totalSamples >>> 16, 16);
  out.writeBits(totalSamples & 0xffff, 16);
  for (const byte of md5) out.writeBits(byte, 8);
}

function writeFrameHeader(out: BitWriter, frameNumber: number, blockSize: number): void {
  const start = out.bytePosition;
  out.writeBits(0b11111111111110, 14); // sync
  out.writeBits(0, 1); // reserved
  out.writeBits(0, 1); // fixed block size: the header carries the frame number
  const sizeCode = blockSize === BLOCK_SIZE ? BLOCK_SIZE_CODE : blockSize <= 256 ? 0b0110 : 0b0111;
  out.writeBits(sizeCode, 4);
  out.writeBits(SAMPLE_RATE_CODE_16K, 4);
  out.writeBits(0, 4); // mono
  out.writeBits(SAMPLE_SIZE_CODE_16, 3);
  out.writeBits(0, 1); // reserved
  writeUtf8Number(out, frameNumber);
  if (sizeCode === 0b0110) out.writeBits(blockSize - 1, 8);
  else if (sizeCode === 0b0111) out.writeBits(blockSize - 1, 16);
  out.writeBits(crc8(out.bytes, start, out.bytePosition), 8);
}

/** The frame number in FLAC's extended UTF-8 coding. */
function writeUtf8Number(out: BitWriter, value: number): void {
  if (value < 0x80) return out.writeBits(value, 8);
  let continuation = value < 0x800 ? 1 : value < 0x10000 ? 2 : value < 0x200000 ? 3 : value < 0x4000000 ? 4 : 5;
  const lead = (0xff00 >> (continuation + 1)) & 0xff;
  out.writeBits(lead | Math.floor(value / 2 ** (6 * continuation)), 8);
  while (continuation-- > 0) out.writeBits(0x80 | (Math.floor(value / 2 ** (6 * continuation)) & 0x3f), 8);
}

function writeSubframe(out: BitWriter, block: Int16Array, residual: Int32Array): void {
  const n = block.length;
  let constant = true;
  for (let i = 1; i < n && constant; i++) constant = block[i] === block[0];
  if (constant) {
    // Digital silence (and any other constant run): one sample stands for the whole block.
    out.writeBits(0b00000000, 8);
    out.writeBits(block[0] & 0xffff, BITS_PER_SAMPLE);
    return;
  }
  const order = bestFixedOrder(block);
  fixedResidual(block, order, residual);
  const plan = planRice(residual, order, n);
  const verbatimBits = n * BITS_PER_SAMPLE;
  // 6 bits: the residual coding method and the partition order.
  if (plan === null || order * BITS_PER_SAMPLE + 6 + plan.bits >= verbatimBits) {
    out.writeBits(0b00000010, 8); // VERBATIM
    for (let i = 0; i < n; i++) out.writeBits(block[i] & 0xffff, BITS_PER_SAMPLE);
    return;
  }
  out.writeBits(0b00010000 | (order << 1), 8); // FIXED, order, no wasted bits
  for (let i = 0; i < order; i++) out.writeBits(block[i] & 0xffff, BITS_PER_SAMPLE);
  out.writeBits(0b00, 2); // Rice coding with 4-bit parameters
  out.writeBits(plan.partitionOrder, 4);
  const partitions = 1 << plan.partitionOrder;
  const perPartition = n >> plan.partitionOrder;
  let i = order;
  for (let p = 0; p < partitions; p++) {
    const k = plan.parameters[p];
    out.writeBits(k, 4);
    const end = (p + 1) * perPartition;
    out.writeRicePartition(residual, i, end, k);
    i = end;
  }
}

/** The fixed predictor order with the smallest sum of absolute residuals (libFLAC's choice too). */
function bestFixedOrder(x: Int16Array): number {
  const n = x.length;
  if (n <= MAX_ORDER) return 0;
  let e0 = 0;
  let e1 = 0;
  let e2 = 0;
  let e3 = 0;
  let e4 = 0;
  // Each order's residual is the difference of the previous order's: carry the last of each along.
  let last0 = x[3];
  let last1 = x[3] - x[2];
  let last2 = last1 - (x[2] - x[1]);
  let last3 = last2 - (x[2] - x[1] - (x[1] - x[0]));
  for (let i = MAX_ORDER; i < n; i++) {
    const r0 = x[i];
    const r1 = r0 - last0;
    const r2 = r1 - last1;
    const r3 = r2 - last2;
    const r4 = r3 - last3;
    e0 += r0 < 0 ? -r0 : r0;
    e1 += r1 < 0 ? -r1 : r1;
    e2 += r2 < 0 ? -r2 : r2;
    e3 += r3 < 0 ? -r3 : r3;
    e4 += r4 < 0 ? -r4 : r4;
    last0 = r0;
    last1 = r1;
    last2 = r2;
    last3 = r3;
  }
  const errors = [e0, e1, e2, e3, e4];
  let best = 0;
  for (let order = 1; order <= MAX_ORDER; order++) if (errors[order] < errors[best]) best = order;
  return best;
}

function fixedResidual(x: Int16Array, order: number, out: Int32Array): void {
  const n = x.length;
  switch (order) {
    case 0:
      for (let i = 0; i < n; i++) out[i] = x[i];
      break;
    case 1:
      for (let i = 1; i < n; i++) out[i] = x[i] - x[i - 1];
      break;
    case 2:
      for (let i = 2; i < n; i++) out[i] = x[i] - 2 * x[i - 1] + x[i - 2];
      break;
    case 3:
      for (let i = 3; i < n; i++) out[i] = x[i] - 3 * x[i - 1] + 3 * x[i - 2] - x[i - 3];
      break;
    default:
      for (let i = 4; i < n; i++) out[i] = x[i] - 4 * x[i - 1] + 6 * x[i - 2] - 4 * x[i - 3] + x[i - 4];
  }
}

interface RicePlan {
  partitionOrder: number;
  parameters: number[];
  /** Bits of the residual section after the 6-bit method and order fields (an upper bound). */
  bits: number;
}

/**
 * Chooses the partition order and the Rice parameter of each partition. The
 * sums of the zigzagged residuals per finest partition are merged pairwise for
 * coarser orders, and each candidate is costed from its sums; the chosen plan
 * is then costed exactly, value by value, to compare it with verbatim.
 */
function planRice(residual: Int32Array, order: number, n: number): RicePlan | null {
  let maxOrder = 0;
  while (maxOrder < MAX_PARTITION_ORDER && n % (2 << maxOrder) === 0 && n >> (maxOrder + 1) > order) maxOrder++;
  let sums = new Float64Array(1 << maxOrder);
  const per = n >> maxOrder;
  for (let p = 0, i = order; p < sums.length; p++) {
    let s = 0;
    for (const end = (p + 1) * per; i < end; i++) {
      const r = residual[i];
      s += r >= 0 ? 2 * r : -2 * r - 1;
    }
    sums[p] = s;
  }
  let best: { partitionOrder: number; parameters: number[]; estimate: number } | null = null;
  for (let partitionOrder = maxOrder; partitionOrder >= 0; partitionOrder--) {
    const partitions = 1 << partitionOrder;
    const size = n >> partitionOrder;
    const parameters: number[] = [];
    let estimate = 0;
    for (let p = 0; p < partitions; p++) {
      const count = p === 0 ? size - order : size;
      const k = riceParameter(sums[p], count);
      parameters.push(k);
      estimate += 4 + estimateBits(sums[p], count, k);
    }
    if (!best || estimate < best.estimate) best = { partitionOrder, parameters, estimate };
    if (partitionOrder > 0) {
      const merged = new Float64Array(partitions / 2);
      for (let p = 0; p < merged.length; p++) merged[p] = sums[2 * p] + sums[2 * p + 1];
      sums = merged;
    }
  }
  if (!best) return null;
  // Summing before shifting never counts fewer quotient bits than shifting each value: an upper bound.
  return { partitionOrder: best.partitionOrder, parameters: best.parameters, bits: best.estimate };
}

function riceParameter(sum: number, count: number): number {
  if (count <= 0) return 0;
  // The parameter near log2 of the mean value, then whichever neighbour costs less.
  let k = 0;
  while (k < MAX_RICE_PARAMETER && count * POW2[k + 1] <= sum) k++;
  let bits = estimateBits(sum, count, k);
  if (k > 0) {
    const lower = estimateBits(sum, count, k - 1);
    if (lower < bits) return k - 1;
  }
  if (k < MAX_RICE_PARAMETER && estimateBits(sum, count, k + 1) < bits) k++;
  return k;
}

function estimateBits(sum: number, count: number, k: number): number {
  return count * (k + 1) + Math.floor(sum / POW2[k]);
}

const POW2 = Float64Array.from({ length: 32 }, (_, k) => 2 ** k);

/** MSB-first bit packing into a preallocated buffer. */
class BitWriter {
  readonly bytes: Uint8Array;
  private position = 0;
  /** Bits not yet written out, fewer than 8 between calls. */
  private pending = 0;
  private pendingBits = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Byte offset of the next whole byte (call at byte boundaries). */
  get bytePosition(): number {
    return this.position;
  }

  /** Writes the low `count` bits of `value`, most significant first; count up to 32. */
  writeBits(value: number, count: number): void {
    if (count > 24) {
      this.writeBits(Math.floor(value / 2 ** 16) & 0xffff, count - 16);
      this.writeBits(value & 0xffff, 16);
      return;
    }
    this.pending = ((this.pending << count) | (value & ((1 << count) - 1))) >>> 0;
    this.pendingBits += count;
    while (this.pendingBits >= 8) {
      this.pendingBits -= 8;
      this.bytes[this.position++] = (this.pending >>> this.pendingBits) & 0xff;
    }
    this.pending &= (1 << this.pendingBits) - 1;
  }

  /**
   * residual[from..to) as Rice codes with parameter k (each zigzagged value u:
   * u >> k zeros, a one, the low k bits). The hot loop of the encoder, so the
   * bit buffer lives in locals and whole bytes are stored as they fill.
   */
  writeRicePartition(residual: Int32Array, from: number, to: number, k: number): void {
    const bytes = this.bytes;
    let position = this.position;
    let pending = this.pending;
    let pendingBits = this.pendingBits;
    const lowMask = (1 << k) - 1;
    for (let i = from; i < to; i++) {
      const r = residual[i];
      const u = r >= 0 ? 2 * r : -2 * r - 1;
      let zeros = u >>> k;
      // Long runs of zeros (a value far above the partition's typical size) go out a byte at a time.
      while (zeros + pendingBits >= 8) {
        zeros -= 8 - pendingBits;
        bytes[position++] = pending << (8 - pendingBits);
        pending = 0;
        pendingBits = 0;
      }
      pending <<= zeros;
      pendingBits += zeros;
      // pending holds fewer than 8 bits: room for the one and up to 14 low bits in 31.
      pending = (pending << (k + 1)) | (1 << k) | (u & lowMask);
      pendingBits += k + 1;
      while (pendingBits >= 8) {
        pendingBits -= 8;
        bytes[position++] = pending >>> pendingBits;
      }
      pending &= (1 << pendingBits) - 1;
    }
    this.position = position;
    this.pending = pending;
    this.pendingBits = pendingBits;
  }

  alignToByte(): void {
    if (this.pendingBits > 0) this.writeBits(0, 8 - this.pendingBits);
  }

  finish(): Buffer {
    this.alignToByte();
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.position);
  }
}

function writeUint24(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 16) & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = value & 0xff;
}

const CRC8_TABLE = makeTable(0x07, 8);
const CRC16_TABLE = makeTable(0x8005, 16);

function makeTable(poly: number, width: 8 | 16): Uint16Array {
  const table = new Uint16Array(256);
  const top = 1 << (width - 1);
  const mask = (1 << width) - 1;
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << (width - 8);
    for (let bit = 0; bit < 8; bit++) crc = crc & top ? ((crc << 1) ^ poly) & mask : (crc << 1) & mask;
    table[byte] = crc;
  }
  return table;
}

function crc8(bytes: Uint8Array, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = CRC8_TABLE[crc ^ bytes[i]];
  return crc;
}

function crc16(bytes: Uint8Array, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[(crc >>> 8) ^ bytes[i]];
  return crc;
}
