/**
 * The rules behind durable session audio and the orphan sweep, without I/O: which parts a sweep joins,
 * when a session is orphaned, how many samples a stored part holds, how far a recording's audio is
 * durable, the session item's cost fields, the batch switch. The same code against the emulators is in
 * test/e2e/realtime-orphans.test.ts.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { realtimeSettingsFromEnv, REALTIME_ENV } from "../../realtime/config.js";
import { contiguousParts, orphanedBefore } from "../../realtime/session-orphans.js";
import { MemoryRecorder, PartLedger } from "../../realtime/session-recorder.js";
import { flacSampleCount, FLAC_HEADER_BYTES, liveCostFields, sessionKeys } from "../../realtime/session-submit.js";
import { HEARTBEAT_MS, ORPHAN_AFTER_MS } from "../../realtime/session-table.js";
import { encodeFlacPcm } from "../../shared/audio/flac-encoder.js";

const start = { sessionId: "sess_unit", model: "m", upstream: "http" as const, keyId: "k", startedAt: new Date(0) };

describe("orphaned sessions", () => {
  it("are those whose last heartbeat is a minute old, with three heartbeats' room before that", () => {
    // Assess
    expect(ORPHAN_AFTER_MS).toBe(60_000);
    expect(ORPHAN_AFTER_MS / HEARTBEAT_MS).toBe(3);
    expect(orphanedBefore(1_000_000)).toBe(940_000);
    expect(orphanedBefore(1_000_000, 5_000)).toBe(995_000);
  });

  it("are joined from their parts in index order, up to the first one missing", () => {
    // Prepare: a listing in S3's order (lexical), part 3 never stored, and a stray object.
    const keys = [0, 1, 10, 2, 4].map((i) => sessionKeys.part("sess_a", i)).concat(["sessions/sess_a/notes.txt", sessionKeys.part("sess_ab", 3)]);
    // Act
    const { parts, beyondGap } = contiguousParts("sess_a", keys);
    // Assess
    expect(parts).toEqual([0, 1, 2].map((i) => sessionKeys.part("sess_a", i)));
    expect(beyondGap).toEqual([4, 10].map((i) => sessionKeys.part("sess_a", i)));
  });

  it("with no stored part have nothing to join", () => {
    expect(contiguousParts("sess_a", [sessionKeys.part("sess_a", 1)])).toEqual({ parts: [], beyondGap: [sessionKeys.part("sess_a", 1)] });
    expect(contiguousParts("sess_a", [])).toEqual({ parts: [], beyondGap: [] });
  });

  it("parts beyond 99999 keep their order", () => {
    const keys = [100000, 99999].map((i) => sessionKeys.part("s", i));
    expect(keys[0]).toBe("sessions/s/part-100000.flac");
    const all = Array.from({ length: 100001 }, (_, i) => sessionKeys.part("s", i));
    expect(contiguousParts("s", all.reverse()).parts.slice(-2)).toEqual(keys.reverse());
  });
});

describe("a stored part's length", () => {
  it.each([0, 1, 4095, 4096, 80_000, 123_457])("is read from its FLAC header (%i samples)", (count) => {
    // Prepare
    const pcm = Buffer.alloc(count * 2);
    for (let i = 0; i < count; i++) pcm.writeInt16LE(Math.round(3000 * Math.sin(i / 7)), i * 2);
    // Act
    const header = encodeFlacPcm(pcm).subarray(0, FLAC_HEADER_BYTES);
    // Assess
    expect(flacSampleCount(header)).toBe(count);
  });

  it("counts beyond 32 bits (the field has 36)", () => {
    const header = encodeFlacPcm(Buffer.alloc(2)).subarray(0, FLAC_HEADER_BYTES);
    header[21] = (header[21] & 0xf0) | 0x3;
    header.set([0, 0, 0, 5], 22);
    expect(flacSampleCount(header)).toBe(3 * 2 ** 32 + 5);
  });

  it("refuses what is not a FLAC header", () => {
    expect(() => flacSampleCount(Buffer.alloc(FLAC_HEADER_BYTES))).toThrow(/not a FLAC/);
    expect(() => flacSampleCount(Buffer.from("fLaC"))).toThrow(/not a FLAC/);
  });

  it("is stored with the MD5 of exactly its samples (what a test can check a part against)", () => {
    const pcm = Buffer.from(Int16Array.from({ length: 1000 }, (_, i) => i * 7).buffer);
    const flac = encodeFlacPcm(pcm);
    expect(Buffer.from(flac.subarray(26, 42)).toString("hex")).toBe(createHash("md5").update(pcm).digest("hex"));
  });
});

describe("the part ledger", () => {
  it("is durable through the stored prefix only", () => {
    // Prepare
    const ledger = new PartLedger();
    const a = ledger.add(80_000);
    const b = ledger.add(100_000);
    const c = ledger.add(180_000);
    // Act / Assess: part b stored before a counts only once a is.
    ledger.markStored(b);
    expect(ledger.storedThrough).toBe(0);
    ledger.markStored(a);
    expect(ledger.storedThrough).toBe(100_000);
    expect(ledger.flushedThrough).toBe(180_000);
    ledger.markStored(c);
    expect(ledger.storedThrough).toBe(180_000);
    expect(ledger.count).toBe(3);
  });

  it("only takes parts that move forward", () => {
    const ledger = new PartLedger();
    ledger.add(10);
    expect(() => ledger.add(10)).toThrow();
  });
});

describe("the session item's cost", () => {
  it("takes the live side's usage as it arrives at the end", () => {
    expect(liveCostFields({ audioSecondsBilled: 12.34567, requests: 9, partialRequests: 4 })).toEqual({
      liveAudioSecondsBilled: 12.346,
      liveRequests: 9,
      livePartialRequests: 4,
    });
  });

  it("is left out when unknown (an orphaned session's gateway took it along)", () => {
    expect(liveCostFields(undefined)).toEqual({});
  });
});

describe("the batch switch", () => {
  it("is on unless STT_REALTIME_BATCH_JOB=off", () => {
    expect(REALTIME_ENV.batchJob).toBe("STT_REALTIME_BATCH_JOB");
    expect(realtimeSettingsFromEnv({}).batchJob).toBe(true);
    expect(realtimeSettingsFromEnv({ STT_REALTIME_BATCH_JOB: "on" }).batchJob).toBe(true);
    expect(realtimeSettingsFromEnv({ STT_REALTIME_BATCH_JOB: "off" }).batchJob).toBe(false);
    expect(() => realtimeSettingsFromEnv({ STT_REALTIME_BATCH_JOB: "no" })).toThrow(/STT_REALTIME_BATCH_JOB must be on or off/);
  });

  it("ends an in-memory session CLOSED instead of SUBMITTED", async () => {
    // Prepare
    const recording = await new MemoryRecorder({ batchJob: false }).start(start);
    recording.append(new Int16Array(1600));
    // Act
    const outcome = await recording.finish({ reason: "client_closed", endedAt: new Date(1), utteranceCount: 0 });
    // Assess
    expect(outcome).toEqual({ status: "CLOSED", audioSeconds: 0.1 });
  });
});

describe("the in-memory recorder", () => {
  it("is durable through what was appended, and records how far it was asked", async () => {
    // Prepare
    const recorder = new MemoryRecorder();
    const recording = await recorder.start(start);
    recording.append(new Int16Array(16_000));
    // Act
    await recording.durableThrough(8000);
    await recording.durableThrough(40_000);
    // Assess: clamped to the audio received.
    expect(recorder.sessions.get("sess_unit")!.durableThrough).toBe(16_000);
  });
});
