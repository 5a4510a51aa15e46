import { spawn } from "node:child_process";
import { BYTES_PER_SAMPLE, SAMPLE_RATE, inputGuardArgs, scrubbedLine } from "./ffmpeg.js";
import { PermanentError } from "../errors.js";
import { channelFilter } from "../domain/channels/lane-plan.js";

export interface DecodeHandle {
  /** 16 kHz mono s16le, in the order ffmpeg produces it; iterating applies backpressure to ffmpeg. */
  pcm: AsyncIterable<Buffer>;
  /** Settles when ffmpeg exits: rejects with a permanent error if the stream could not be decoded. */
  done: Promise<void>;
  kill: () => void;
}

export interface DecodeOptions {
  /** The demuxer to use (`-f`), as decided from the probe (ffmpeg.ts `demuxerFor`); unset, ffmpeg guesses. */
  demuxer?: string;
  /** Wall-clock budget of the process: past it ffmpeg is killed and `done` rejects permanently. */
  timeoutMs?: number;
  /** Most seconds of audio the input may decode to: past it ffmpeg is killed and iterating `pcm` throws. */
  maxSeconds?: number;
  /** Words for the reason when `maxSeconds` is passed (what the limit is derived from). */
  maxSecondsReason?: string;
  /** Decode this input channel alone (a channel job's lane: domain/channels/); unset, all channels mixed to mono. */
  channel?: number;
}

/** The arguments of one decode: exported so the hardening is tested without running ffmpeg. */
export function decodeArgs(input: string, options: Pick<DecodeOptions, "demuxer" | "channel"> = {}): string[] {
  // Reconnect options only apply to network inputs: the chunker reads the source by presigned URL.
  const reconnect = /^https?:\/\//i.test(input) ? ["-reconnect", "1", "-reconnect_streamed", "1"] : [];
  return [
    "-v", "error", "-nostdin", ...inputGuardArgs(input), ...reconnect,
    // Packets the demuxer flags as corrupt are dropped rather than fed to the decoder.
    "-fflags", "+discardcorrupt",
    ...(options.demuxer ? ["-f", options.demuxer] : []),
    "-i", input,
    "-map", "0:a:0", "-vn", ...(options.channel === undefined ? ["-ac", "1"] : ["-af", channelFilter(options.channel)]),
    "-ar", String(SAMPLE_RATE),
    // On a pipe ffmpeg flushes after every packet (an MP3 frame is ~1 KB of PCM): 15x more reads, and
    // per-read work, for the same bytes. Unflushed, it writes in full 32 KB buffers.
    "-flush_packets", "0",
    "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1",
  ];
}

/**
 * Decodes any input ffmpeg understands (a file path or an http(s) URL,
 * read with range requests) to the pipeline's PCM format in one pass.
 * `-xerror` is deliberately not used: a few damaged frames in a long
 * recording should not fail it; a stream that yields nothing does.
 */
export function decodeToPcm(ffmpeg: string, input: string, options: DecodeOptions = {}): DecodeHandle {
  const child = spawn(ffmpeg, decodeArgs(input, options), { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  let timedOut = false;
  const timer = options.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, options.timeoutMs)
    : undefined;
  timer?.unref();
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        return reject(new PermanentError("decode_timeout", `decoding took longer than ${Math.round(options.timeoutMs! / 1000)} s`));
      }
      if (code === 0) return resolve();
      if (signal) return reject(new Error(`ffmpeg was stopped (${signal})`));
      const line = stderr.trim().split("\n").filter(Boolean).pop() ?? `exit ${code}`;
      reject(new PermanentError("decode_failed", `audio could not be decoded: ${scrubbedLine(line, input)}`));
    });
  });
  // Callers await `done` after draining; keep an early failure from being reported as unhandled.
  done.catch(() => undefined);
  const kill = () => {
    clearTimeout(timer);
    child.kill("SIGKILL");
  };
  return { pcm: options.maxSeconds === undefined ? child.stdout : capped(child.stdout, options, kill), done, kill };
}

/** The PCM, stopped (ffmpeg killed, a permanent error thrown) once it passes `maxSeconds` of audio. */
async function* capped(pcm: AsyncIterable<Buffer>, options: DecodeOptions, kill: () => void): AsyncGenerator<Buffer> {
  const maxBytes = Math.ceil(options.maxSeconds! * SAMPLE_RATE) * BYTES_PER_SAMPLE;
  let bytes = 0;
  for await (const chunk of pcm) {
    bytes += chunk.length;
    if (bytes > maxBytes) {
      kill();
      const limit = `${Math.round(options.maxSeconds!)} s`;
      throw new PermanentError(
        "too_long",
        `the audio decodes to more than ${limit}${options.maxSecondsReason ? ` (${options.maxSecondsReason})` : ""}`,
      );
    }
    yield chunk;
  }
}

/** Energy of each 10 ms frame in dBFS: what the cut planner reads to find quiet moments. */
export class EnvelopeMeter {
  static readonly FRAME_SAMPLES = SAMPLE_RATE / 100;
  static readonly FRAME_SECONDS = 0.01;
  private carrySum = 0;
  private carryCount = 0;

  /** Consumes samples; returns the frames completed by them. */
  push(samples: Int16Array): Float32Array {
    const size = EnvelopeMeter.FRAME_SAMPLES;
    const frames = new Float32Array(Math.floor((this.carryCount + samples.length) / size));
    // Every sample of the recording passes through this loop. Sums of squared 16-bit samples are exact
    // in a double, in any order, so scaling once per frame gives bit for bit what scaling every sample did,
    // and two running sums (even and odd samples) halve the chain of additions each waits on.
    let sum = this.carrySum;
    let count = this.carryCount;
    let i = 0;
    for (let f = 0; f < frames.length; f++) {
      const end = i + (size - count);
      let even = 0;
      let odd = 0;
      for (; i + 1 < end; i += 2) {
        const a = samples[i];
        const b = samples[i + 1];
        even += Math.imul(a, a);
        odd += Math.imul(b, b);
      }
      if (i < end) {
        even += samples[i] * samples[i];
        i++;
      }
      sum += even + odd;
      frames[f] = toDb(sum / SCALE / size);
      sum = 0;
      count = 0;
    }
    const tail = samples.length - i;
    for (; i < samples.length; i++) sum += samples[i] * samples[i];
    this.carrySum = sum;
    this.carryCount = count + tail;
    return frames;
  }

  /** The last, partial frame (if any). */
  flush(): Float32Array {
    if (this.carryCount === 0) return new Float32Array(0);
    const frame = Float32Array.of(toDb(this.carrySum / SCALE / this.carryCount));
    this.carrySum = 0;
    this.carryCount = 0;
    return frame;
  }
}

/** Full scale of a 16-bit sample, squared: sums of squared samples are divided by it to get power re full scale. */
const SCALE = 32768 * 32768;

function toDb(meanSquare: number): number {
  return 10 * Math.log10(meanSquare + 1e-12);
}
