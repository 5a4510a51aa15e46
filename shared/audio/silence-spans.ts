import { spawn, type ChildProcess } from "node:child_process";
import { PassThrough, Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { inputGuardArgs, scrubbedLine } from "./ffmpeg.js";
import { PermanentError } from "../errors.js";

/** A stretch of the recording (seconds) to silence. */
export interface SilenceSpan {
  start: number;
  end: number;
}

/**
 * Sets to zero the samples of interleaved s16le PCM that fall in the spans: every sample from floor(start ×
 * rate) to ceil(end × rate), so a span is silent to the sample whatever the chunk boundaries. Streaming: one
 * pass, memory of one chunk. Spans may be in any order and may overlap.
 */
export class SpanSilencer extends Transform {
  private readonly ranges: Array<[number, number]>;
  private next = 0;
  /** Sample frames (one sample per channel) passed so far. */
  private frame = 0;
  private carry: Buffer = Buffer.alloc(0);
  private readonly frameBytes: number;

  constructor(sampleRate: number, channels: number, spans: readonly SilenceSpan[]) {
    super();
    this.frameBytes = 2 * channels;
    this.ranges = mergeRanges(
      spans.map((s): [number, number] => [Math.max(0, Math.floor(s.start * sampleRate)), Math.max(0, Math.ceil(s.end * sampleRate))]),
    );
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk);
    const whole = data.length - (data.length % this.frameBytes);
    this.carry = data.subarray(whole);
    const frames = whole / this.frameBytes;
    const from = this.frame;
    const to = from + frames;
    while (this.next < this.ranges.length && this.ranges[this.next][1] <= from) this.next++;
    for (let r = this.next; r < this.ranges.length && this.ranges[r][0] < to; r++) {
      const a = Math.max(this.ranges[r][0], from) - from;
      const b = Math.min(this.ranges[r][1], to) - from;
      if (b > a) data.fill(0, a * this.frameBytes, b * this.frameBytes);
    }
    this.frame = to;
    done(null, data.subarray(0, whole));
  }

  override _flush(done: TransformCallback): void {
    // A trailing half sample is what the decoder gave: passed on as it is.
    done(null, this.carry.length ? this.carry : undefined);
  }
}

function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = ranges.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([...range]);
  }
  return merged;
}

export interface SilencedAudio {
  /** FLAC bytes as ffmpeg writes them: stream them to storage. */
  flac: Readable;
  /** Settles when both processes exit and every byte went through; rejects with the decoder's or encoder's reason. */
  done: Promise<void>;
  kill: () => void;
}

/**
 * A copy of the recording's first audio stream with the spans silenced, as FLAC at the source's own sample
 * rate and channels (16-bit). Two ffmpeg processes with the silencer between them: the decoder (the
 * pipeline's hardened input options: protocol whitelist, bounded probing, the probed demuxer) writes PCM, the
 * silencer zeroes the spans' samples, the encoder writes FLAC. Why not one ffmpeg with `volume=enable=...`:
 * a filter's timeline is evaluated once per audio frame (up to thousands of samples), so the edges would be
 * off by up to a frame; `aeval` is exact but evaluates an expression of every span at every sample. This way
 * the silence is exact to the sample, the cost is one pass, and nothing is held but a chunk.
 */
export function silenceAudio(
  ffmpeg: string,
  input: string,
  source: { demuxer?: string; sampleRate: number; channels: number },
  spans: readonly SilenceSpan[],
  timeoutMs = 600_000,
): SilencedAudio {
  const rate = String(source.sampleRate);
  const channels = String(source.channels);
  const decoder = spawn(
    ffmpeg,
    [
      "-v", "error", "-nostdin", ...inputGuardArgs(input),
      ...(source.demuxer ? ["-f", source.demuxer] : []),
      "-i", input, "-map", "0:a:0", "-vn", "-ac", channels, "-ar", rate, "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const encoder = spawn(
    ffmpeg,
    ["-v", "error", "-nostdin", "-f", "s16le", "-ar", rate, "-ac", channels, "-i", "pipe:0", "-c:a", "flac", "-f", "flac", "pipe:1"],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const flac = new PassThrough();
  const kill = () => {
    decoder.kill("SIGKILL");
    encoder.kill("SIGKILL");
  };
  const timer = setTimeout(kill, timeoutMs);
  timer.unref();
  const exits = Promise.all([exited(decoder, "decode", input), exited(encoder, "encode", input)]);
  const pcm = pipeline(decoder.stdout!, new SpanSilencer(source.sampleRate, source.channels, spans), encoder.stdin!);
  encoder.stdout!.pipe(flac);
  const done = Promise.all([pcm, exits]).then(
    () => clearTimeout(timer),
    (error: unknown) => {
      clearTimeout(timer);
      kill();
      flac.destroy(error as Error);
      throw error;
    },
  );
  return { flac, done, kill };
}

function exited(child: ChildProcess, what: string, input: string): Promise<void> {
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else {
        const line = scrubbedLine(stderr.trim().split("\n").filter(Boolean).pop() ?? `exit ${code ?? signal}`, input);
        reject(new PermanentError("redact_audio_failed", `could not ${what} the redacted audio: ${line}`));
      }
    });
  });
}
