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
 *
 * Speed matters: the chunker runs this on a worker thread beside the decoder
 * (flac-pool.ts) for every sample of every recording, at about 12 ns a sample
 * (a fifth of it the MD5): the order is chosen on a subsample, the residual,
 * its folding and the partition sums are one pass, Rice codes are appended
 * with one shift and stored 4 bytes at a time, and the frame CRC-16 takes 4
 * bytes per step.
 */
export function encodeFlacPcm(pcm: Buffer): Buffer {
  const count = Math.floor(pcm.length / BYTES_PER_SAMPLE);
  const samples = toInt16(pcm, count);
  // Worst case is every frame verbatim: 2 bytes a sample plus a frame header and CRC.
  const frames = Math.ceil(count / BLOCK_SIZE);
  const out = new BitWriter(STREAM_HEADER_BYTES + count * BYTES_PER_SAMPLE + frames * MAX_FRAME_OVERHEAD + 16);
  writeStreamHeader(out, count, createHash("md5").update(pcm.subarray(0, count * BYTES_PER_SAMPLE)).digest());

  const scratch = newScratch();
  let minFrame = Infinity;
  let maxFrame = 0;
  for (let frame = 0; frame < frames; frame++) {
    const start = frame * BLOCK_SIZE;
    const block = samples.subarray(start, Math.min(count, start + BLOCK_SIZE));
    const frameStart = out.bytePosition;
    writeFrameHeader(out, frame, block.length);
    writeSubframe(out, block, scratch);
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

/** Per-encoder work space, reused from frame to frame. */
interface Scratch {
  /** Zigzagged residuals of the current block (0, -1, 1, -2, ... as 0, 1, 2, 3, ...). */
  folded: Int32Array;
  /** Sum of the folded residuals of each finest partition. */
  sums: Float64Array;
}

function newScratch(): Scratch {
  return { folded: new Int32Array(BLOCK_SIZE), sums: new Float64Array(1 << MAX_PARTITION_ORDER) };
}

function writeSubframe(out: BitWriter, block: Int16Array, scratch: Scratch): void {
  const n = block.length;
  const first = block[0];
  let same = 1;
  while (same < n && block[same] === first) same++;
  if (same === n) {
    // Digital silence (and any other constant run): one sample stands for the whole block.
    out.writeBits(0b00000000, 8);
    out.writeBits(first & 0xffff, BITS_PER_SAMPLE);
    return;
  }
  const order = n <= MAX_ORDER ? 0 : bestFixedOrder(block, n >= ORDER_SUBSAMPLE_MIN_BLOCK ? ORDER_SUBSAMPLE_STRIDE : 1);
  const { folded } = scratch;
  const finest = finestPartitionOrder(n, order);
  foldResidual(block, order, folded, scratch.sums, n >> finest);
  const plan = planRice(order, n, finest, scratch.sums);
  const verbatimBits = n * BITS_PER_SAMPLE;
  // 6 bits: the residual coding method and the partition order.
  if (order * BITS_PER_SAMPLE + 6 + plan.bits >= verbatimBits) {
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
    out.writeRicePartition(folded, i, end, k);
    i = end;
  }
}

/**
 * The order is chosen from every 8th residual of a full block: the sums of
 * absolute residuals it compares are nearly as telling on an eighth of the
 * block (the output grows by under 0.1 % on speech), at an eighth of the
 * cost (comparing all five orders at every sample cost about as much as
 * computing and writing the chosen one). Short blocks (the last one) use
 * every sample.
 */
const ORDER_SUBSAMPLE_STRIDE = 8;
const ORDER_SUBSAMPLE_MIN_BLOCK = 1024;

/** The fixed predictor order with the smallest sum of absolute residuals (libFLAC's choice too), over every `stride`th sample. */
function bestFixedOrder(x: Int16Array, stride: number): number {
  const n = x.length;
  let e0 = 0;
  let e1 = 0;
  let e2 = 0;
  let e3 = 0;
  let e4 = 0;
  for (let i = MAX_ORDER; i < n; i += stride) {
    const a = x[i];
    const b = x[i - 1];
    const c = x[i - 2];
    const d = x[i - 3];
    e0 += Math.abs(a);
    e1 += Math.abs(a - b);
    e2 += Math.abs(a - 2 * b + c);
    e3 += Math.abs(a - 3 * b + 3 * c - d);
    e4 += Math.abs(a - 4 * b + 6 * c - 4 * d + x[i - 4]);
  }
  let best = 0;
  let least = e0;
  if (e1 < least) (best = 1), (least = e1);
  if (e2 < least) (best = 2), (least = e2);
  if (e3 < least) (best = 3), (least = e3);
  if (e4 < least) best = 4;
  return best;
}

/**
 * The residual of the fixed predictor of `order`, folded for Rice coding
 * (zigzag: r >= 0 as 2r, r < 0 as -2r - 1) into out[order..n), and in the
 * same pass the sum of the folded values of each partition of `size`
 * samples into `sums` (what the Rice parameters are chosen from). A 16-bit
 * signal's order-4 residual needs 20 bits, so int32 arithmetic is exact; the
 * sums are doubles, as 4096 such values overflow an int32. The previous
 * samples ride along in locals: one load a sample.
 */
function foldResidual(x: Int16Array, order: number, out: Int32Array, sums: Float64Array, size: number): void {
  const n = x.length;
  if (order === 0) {
    for (let p = 0, i = 0; i < n; p++) {
      let s = 0;
      for (const end = (p + 1) * size; i < end; i++) {
        const a = x[i];
        const r = a;
        const u = (r << 1) ^ (r >> 31);
        out[i] = u;
        s += u;
      }
      sums[p] = s;
    }
  } else if (order === 1) {
    let p1 = x[0];
    for (let p = 0, i = 1; i < n; p++) {
      let s = 0;
      for (const end = (p + 1) * size; i < end; i++) {
        const a = x[i];
        const r = a - p1;
        const u = (r << 1) ^ (r >> 31);
        out[i] = u;
        s += u;
        p1 = a;
      }
      sums[p] = s;
    }
  } else if (order === 2) {
    let p1 = x[1];
    let p2 = x[0];
    for (let p = 0, i = 2; i < n; p++) {
      let s = 0;
      for (const end = (p + 1) * size; i < end; i++) {
        const a = x[i];
        const r = a - 2 * p1 + p2;
        const u = (r << 1) ^ (r >> 31);
        out[i] = u;
        s += u;
        p2 = p1;
        p1 = a;
      }
      sums[p] = s;
    }
  } else if (order === 3) {
    let p1 = x[2];
    let p2 = x[1];
    let p3 = x[0];
    for (let p = 0, i = 3; i < n; p++) {
      let s = 0;
      for (const end = (p + 1) * size; i < end; i++) {
        const a = x[i];
        const r = a - 3 * p1 + 3 * p2 - p3;
        const u = (r << 1) ^ (r >> 31);
        out[i] = u;
        s += u;
        p3 = p2;
        p2 = p1;
        p1 = a;
      }
      sums[p] = s;
    }
  } else {
    let p1 = x[3];
    let p2 = x[2];
    let p3 = x[1];
    let p4 = x[0];
    for (let p = 0, i = 4; i < n; p++) {
      let s = 0;
      for (const end = (p + 1) * size; i < end; i++) {
        const a = x[i];
        const r = a - 4 * p1 + 6 * p2 - 4 * p3 + p4;
        const u = (r << 1) ^ (r >> 31);
        out[i] = u;
        s += u;
        p4 = p3;
        p3 = p2;
        p2 = p1;
        p1 = a;
      }
      sums[p] = s;
    }
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
 * sums of the folded residuals per finest partition are merged pairwise for
 * coarser orders, and each candidate is costed from its sums (an upper bound:
 * summing before shifting never counts fewer quotient bits than shifting each
 * value).
 */
/** The most partitions a block allows: their size must divide it, and the first must be longer than the warm-up samples. */
function finestPartitionOrder(n: number, order: number): number {
  let maxOrder = 0;
  while (maxOrder < MAX_PARTITION_ORDER && n % (2 << maxOrder) === 0 && n >> (maxOrder + 1) > order) maxOrder++;
  return maxOrder;
}

/** `sums` holds the sums of the finest partitions (foldResidual's); it is merged in place. */
function planRice(order: number, n: number, maxOrder: number, sums: Float64Array): RicePlan {
  let bestOrder = maxOrder;
  let bestParameters: number[] = [];
  let bestBits = Infinity;
  for (let partitionOrder = maxOrder; partitionOrder >= 0; partitionOrder--) {
    const partitions = 1 << partitionOrder;
    const size = n >> partitionOrder;
    const parameters: number[] = new Array<number>(partitions);
    let bits = 0;
    for (let p = 0; p < partitions; p++) {
      const count = p === 0 ? size - order : size;
      const k = riceParameter(sums[p], count);
      parameters[p] = k;
      bits += 4 + estimateBits(sums[p], count, k);
    }
    if (bits < bestBits) {
      bestOrder = partitionOrder;
      bestParameters = parameters;
      bestBits = bits;
    }
    // Merge neighbours in place for the next, coarser order.
    for (let p = 0; p < partitions / 2; p++) sums[p] = sums[2 * p] + sums[2 * p + 1];
  }
  return { partitionOrder: bestOrder, parameters: bestParameters, bits: bestBits };
}

function riceParameter(sum: number, count: number): number {
  if (count <= 0) return 0;
  // The parameter near log2 of the mean value (the largest k with count * 2^k <= sum), then whichever
  // neighbour costs less. The mean of folded 20-bit residuals fits a uint32.
  const mean = Math.floor(sum / count);
  let k = mean >= 1 ? Math.min(MAX_RICE_PARAMETER, 31 - Math.clz32(mean)) : 0;
  const bits = estimateBits(sum, count, k);
  if (k > 0 && estimateBits(sum, count, k - 1) < bits) return k - 1;
  if (k < MAX_RICE_PARAMETER && estimateBits(sum, count, k + 1) < bits) k++;
  return k;
}

function estimateBits(sum: number, count: number, k: number): number {
  return count * (k + 1) + Math.floor(sum / POW2[k]);
}

const POW2 = Float64Array.from({ length: 32 }, (_, k) => 2 ** k);

/** MSB-first bit packing into a preallocated buffer. */
class BitWriter {
  readonly bytes: Buffer;
  /** The same memory, for 4-byte big-endian stores. */
  private readonly view: DataView;
  private position = 0;
  /** Bits not yet written out, fewer than 8 between calls, in the low bits (higher bits are stale). */
  private pending = 0;
  private pendingBits = 0;

  constructor(capacity: number) {
    // Every byte up to the final position is written, so the zero fill of alloc would be wasted work.
    // 3 bytes of slack: writeRicePartition stores 4 bytes wherever it stands.
    this.bytes = Buffer.allocUnsafeSlow(capacity + 3);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
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
    this.pending = (this.pending << count) | (value & ((1 << count) - 1));
    this.pendingBits += count;
    while (this.pendingBits >= 8) {
      this.pendingBits -= 8;
      this.bytes[this.position++] = this.pending >>> this.pendingBits;
    }
    this.pending &= (1 << this.pendingBits) - 1;
  }

  /**
   * folded[from..to) as Rice codes with parameter k (each value u: u >> k
   * zeros, a one, the low k bits). The hot loop of the encoder: the bit
   * buffer lives in a local int32 whose low `bits` bits are pending (the
   * bits above them are already written, and never looked at again), and a
   * whole code is appended with one shift whenever it fits.
   */
  writeRicePartition(folded: Int32Array, from: number, to: number, k: number): void {
    const bytes = this.bytes;
    const view = this.view;
    let position = this.position;
    let acc = this.pending;
    let bits = this.pendingBits;
    const one = 1 << k;
    const lowMask = one - 1;
    // With fewer than 8 bits pending, a code of up to 24 bits fits the 31 usable bits of the int32.
    const maxZeros = 23 - k;
    for (let i = from; i < to; i++) {
      const u = folded[i];
      let zeros = u >>> k;
      if (zeros > maxZeros) {
        // A value far above the partition's typical size: its zeros go out a byte at a time.
        while (zeros + bits >= 8) {
          zeros -= 8 - bits;
          bytes[position++] = acc << (8 - bits);
          acc = 0;
          bits = 0;
        }
      }
      const length = zeros + 1 + k;
      acc = (acc << length) | one | (u & lowMask);
      bits += length;
      // The pending bits, left-aligned, as one 4-byte store (no unpredictable branch on how many bytes are
      // whole); only the whole bytes are kept: the rest is rewritten by the next code or the final flush.
      view.setUint32(position, acc << (32 - bits));
      position += bits >> 3;
      bits &= 7;
    }
    this.position = position;
    this.pending = acc & ((1 << bits) - 1);
    this.pendingBits = bits;
  }

  alignToByte(): void {
    if (this.pendingBits > 0) this.writeBits(0, 8 - this.pendingBits);
  }

  finish(): Buffer {
    this.alignToByte();
    return this.bytes.subarray(0, this.position);
  }
}

function writeUint24(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 16) & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = value & 0xff;
}

const CRC8_TABLE = makeTable(0x07, 8);
const CRC16_TABLE = makeTable(0x8005, 16);
/**
 * CRC16_BY_4[j][v]: the CRC-16 contribution of byte v followed by j zero
 * bytes, so that four message bytes are folded in with four lookups
 * ("slicing by 4"): the frame CRC covers every byte the encoder writes.
 */
const CRC16_BY_4 = ((): Uint16Array[] => {
  const tables = [CRC16_TABLE];
  for (let j = 1; j < 4; j++) {
    const previous = tables[j - 1];
    tables.push(Uint16Array.from(previous, (crc) => ((crc << 8) & 0xffff) ^ CRC16_TABLE[crc >>> 8]));
  }
  return tables;
})();

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
  const [t0, t1, t2, t3] = CRC16_BY_4;
  let crc = 0;
  let i = from;
  for (const end = to - 3; i < end; i += 4) {
    crc = t3[(crc >>> 8) ^ bytes[i]] ^ t2[(crc & 0xff) ^ bytes[i + 1]] ^ t1[bytes[i + 2]] ^ t0[bytes[i + 3]];
  }
  for (; i < to; i++) crc = ((crc << 8) & 0xffff) ^ t0[(crc >>> 8) ^ bytes[i]];
  return crc;
}
