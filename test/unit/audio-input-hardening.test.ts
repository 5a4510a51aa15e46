/**
 * How ffprobe and ffmpeg are told to read untrusted uploads (shared/audio/ffmpeg.ts, probe.ts,
 * decode-pcm.ts, pipeline/chunk-recording.ts decodeBudget): the arguments, the container allowlist, the
 * budgets, and reasons that never carry a URL. The few cases that run ffmpeg use small local files.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeArgs, decodeToPcm } from "../../shared/audio/decode-pcm.js";
import { DEMUXER_ALLOWLIST, demuxerFor, ffmpegPaths, inputGuardArgs, protocolWhitelist, SAMPLE_RATE, scrubbedLine } from "../../shared/audio/ffmpeg.js";
import { probeArgs, probeFailure, probeMedia } from "../../shared/audio/probe.js";
import { wavBytes } from "../../shared/audio/wav.js";
import { decodeBudget, MAX_RECORDING_SECONDS } from "../../shared/pipeline/chunk-recording.js";
import { PermanentError } from "../../shared/errors.js";
import { wiring } from "../../shared/wiring.js";

const SIGNED = "https://stt-input.s3.eu-west-1.amazonaws.com/a.mp3?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=deadbeef";
const LOCAL = "http://127.0.0.1:4566/stt-input/a.mp3?X-Amz-Signature=cafe";
const dir = mkdtempSync(join(tmpdir(), "stt-hardening-"));
const paths = ffmpegPaths();

/** Reads the value following `flag` in an argument list. */
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

async function caught(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  throw new Error("expected a failure");
}

describe("protocol whitelist", () => {
  it("allows https (over tls and tcp) for a presigned URL, and http only for an http URL", () => {
    expect(protocolWhitelist(SIGNED)).toBe("https,tls,tcp");
    expect(protocolWhitelist(LOCAL)).toBe("http,tcp");
  });

  it("allows only the file protocol for a local path, and pipe for stdin", () => {
    expect(protocolWhitelist("/tmp/a.mp3")).toBe("file");
    expect(protocolWhitelist("-")).toBe("pipe");
  });

  it("refuses any other scheme outright", () => {
    for (const input of ["data:audio/mp3;base64,AAAA", "concat:a.mp3|b.mp3", "file:/etc/passwd", "ftp://x/a.mp3"]) {
      expect(() => protocolWhitelist(input), input).toThrow(/neither a file nor an http\(s\) URL/);
    }
  });
});

describe("arguments", () => {
  it("bounds probing and whitelists protocols before the input, for ffprobe and the decoder alike", () => {
    // Act
    const probe = probeArgs(SIGNED);
    const decode = decodeArgs(SIGNED, { demuxer: "mp3" });
    // Assess
    for (const args of [probe, decode]) {
      expect(after(args, "-protocol_whitelist")).toBe("https,tls,tcp");
      expect(after(args, "-probesize")).toBe("5000000");
      expect(after(args, "-analyzeduration")).toBe("10000000");
      expect(args.indexOf("-protocol_whitelist")).toBeLessThan(args.indexOf(SIGNED));
    }
    expect(inputGuardArgs(SIGNED)).toEqual(probe.slice(2, 8));
  });

  it("lets ffprobe open only allowlisted demuxers", () => {
    expect(after(probeArgs(LOCAL), "-format_whitelist")).toBe(DEMUXER_ALLOWLIST.join(","));
  });

  it("forces the probed demuxer on the decoder, before its input, and drops corrupt packets", () => {
    const args = decodeArgs(LOCAL, { demuxer: "mov" });
    expect(args.slice(args.indexOf("-i") - 2, args.indexOf("-i") + 2)).toEqual(["-f", "mov", "-i", LOCAL]);
    expect(after(args, "-fflags")).toBe("+discardcorrupt");
    expect(after(args, "-protocol_whitelist")).toBe("http,tcp");
    expect(args).toContain("-reconnect");
  });

  it("leaves a local file without reconnect options or a forced demuxer when none is given", () => {
    const args = decodeArgs("/tmp/a.wav");
    expect(args).not.toContain("-reconnect");
    expect(args.filter((a) => a === "-f")).toHaveLength(1); // only the output's s16le
  });
});

describe("container allowlist", () => {
  it("accepts audio formats and common video containers, naming the demuxer by its first name", () => {
    expect(demuxerFor("mp3")).toBe("mp3");
    expect(demuxerFor("mov,mp4,m4a,3gp,3g2,mj2")).toBe("mov");
    expect(demuxerFor("matroska,webm")).toBe("matroska");
    expect(demuxerFor("wav")).toBe("wav");
  });

  it("refuses playlists, lists, data and images with a one-line 'unsupported container' reason", () => {
    for (const name of ["hls", "hls,applehttp", "concat", "data", "image2", "lavfi", "dash", "tty", "mp4"]) {
      expect(() => demuxerFor(name), name).toThrow(`unsupported container ${name}`);
    }
  });
});

describe("reasons", () => {
  it("never carry the signed URL or any other URL", () => {
    // Act
    const line = scrubbedLine(`[https @ 0x1] ${SIGNED}: Server returned 403 Forbidden (access denied) see http://x/y?z=1`, SIGNED);
    // Assess
    expect(line).toBe("input: Server returned 403 Forbidden (access denied) see input");
    expect(line).not.toMatch(/Signature|amazonaws/);
  });

  it("turns a whitelist refusal into the container's name and anything else into one scrubbed line", () => {
    const refused = probeFailure({ stderr: `[hls @ 0x55] Format not on whitelist 'wav,mp3'\n${SIGNED}: Invalid argument\n` }, SIGNED, 60_000);
    expect([refused.code, refused.message]).toEqual(["unsupported_container", "unsupported container hls"]);
    const other = probeFailure({ stderr: `${SIGNED}: Invalid data found when processing input\n` }, SIGNED, 60_000);
    expect(other.message).toBe("not a readable audio or video file (Invalid data found when processing input)");
    const slow = probeFailure({ killed: true, signal: "SIGKILL" }, SIGNED, 60_000);
    expect([slow.code, slow.message]).toEqual(["probe_timeout", "reading the file's format took longer than 60 s"]);
  });
});

describe("decode budget", () => {
  it("lets the audio run to twice the probed length plus ten minutes, within the chunker's timeout", () => {
    const budget = decodeBudget({ demuxer: "mp3", duration: 60 });
    expect(budget.maxSeconds).toBe(720);
    expect(budget.demuxer).toBe("mp3");
    expect(budget.timeoutMs).toBe((wiring.functions.chunker.timeoutSeconds - 60) * 1000);
  });

  it("caps a file without a probed length at the recording limit", () => {
    expect(decodeBudget({ demuxer: "ogg", duration: undefined }).maxSeconds).toBe(MAX_RECORDING_SECONDS);
  });

  it("fails a recording whose header says it is over the limit before decoding anything", () => {
    expect(MAX_RECORDING_SECONDS).toBe(24 * 3600);
    expect(() => decodeBudget({ demuxer: "flac", duration: 30 * 3600 })).toThrow(/^the recording is 30\.0 h long; the limit is 24 h$/);
  });

  it("holds the deployment's maxRecordingHours instead, when it sets one", () => {
    // Act
    let error: unknown;
    try {
      decodeBudget({ demuxer: "flac", duration: 3600 }, 0.5 * 3600);
    } catch (caught) {
      error = caught;
    }
    // Assess
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: "too_long", message: "the recording is 1.0 h long; the limit is 0.5 h" });
    expect(decodeBudget({ demuxer: "ogg", duration: undefined }, 0.5 * 3600)).toMatchObject({
      maxSeconds: 1800,
      maxSecondsReason: "the limit is 0.5 h",
    });
  });
});

describe("with the real binaries", () => {
  const tone = wavBytes(Buffer.alloc(3 * SAMPLE_RATE * 2, 1));

  it("refuses a concat list disguised as .mp3 without opening what it names", async () => {
    // Prepare
    const file = join(dir, "list.mp3");
    writeFileSync(file, `ffconcat version 1.0\nfile '${join(dir, "secret.wav")}'\n`);
    writeFileSync(join(dir, "secret.wav"), tone);
    // Act
    const error = await caught(probeMedia(paths.ffprobe, file));
    // Assess
    expect(error).toEqual({ code: "unsupported_container", message: "unsupported container concat" });
  });

  it("fails a WAV whose header claims an implausible sample rate", async () => {
    // Prepare: byte 24 of a canonical WAV header is the sample rate.
    const lying = Buffer.from(tone);
    lying.writeUInt32LE(4_000_000, 24);
    const file = join(dir, "lying-rate.wav");
    writeFileSync(file, lying);
    // Act
    const error = await caught(probeMedia(paths.ffprobe, file));
    // Assess
    expect(error).toEqual({ code: "bad_header", message: "the audio header gives an implausible sample rate (4000000 Hz)" });
  });

  it("stops the decoder with a one-line reason once the audio runs past its cap", async () => {
    // Prepare
    const file = join(dir, "three-seconds.wav");
    writeFileSync(file, tone);
    const decoder = decodeToPcm(paths.ffmpeg, file, { demuxer: "wav", maxSeconds: 1, maxSecondsReason: "its header says 0 s" });
    // Act
    const error = await caught((async () => {
      for await (const chunk of decoder.pcm) void chunk;
    })());
    // Assess
    expect(error).toEqual({ code: "too_long", message: "the audio decodes to more than 1 s (its header says 0 s)" });
  });

  it("kills a decoder that outlives its wall-clock budget", async () => {
    // Prepare: a server that takes the request and never answers stands in for a stalled read.
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const decoder = decodeToPcm(paths.ffmpeg, `http://127.0.0.1:${port}/a.mp3?X-Amz-Signature=x`, { demuxer: "mp3", timeoutMs: 400 });
    // Act
    for await (const chunk of decoder.pcm) void chunk;
    const error = await caught(decoder.done);
    server.closeAllConnections();
    server.close();
    // Assess
    expect(error).toEqual({ code: "decode_timeout", message: "decoding took longer than 0 s" });
  });
});
