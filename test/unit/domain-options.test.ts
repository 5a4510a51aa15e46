import { describe, expect, it } from "vitest";
import {
  canonicalOptions,
  DEFAULT_JOB_OPTIONS,
  metadataOptionsSchema,
  overlapFitsChunk,
  parseJobOptions,
  realtimeSessionOf,
  storedJobOptions,
  type JobOptions,
} from "../../shared/domain/options/options.js";
import { PermanentError } from "../../shared/errors.js";
import { explicitLanguage, ISO_639_1, isLanguageChoice, normalizeLanguage } from "../../shared/domain/options/languages.js";
import { encodeMetadataValue } from "../../shared/domain/options/metadata-encoding.js";
import { makeJobId } from "../../shared/pipeline/job-id.js";

/**
 * The metadata that parses back to exactly these options: the inverse of parseJobOptions, which only this
 * test needs (uploaders write metadata from their own flags: cli/transcribe-options.ts).
 */
function optionsToMetadata(options: JobOptions): Record<string, string> {
  const meta: Record<string, string> = {
    language: options.language,
    model: options.model,
    task: options.task,
    diarize: String(options.diarize),
    "chunk-seconds": String(options.chunkSeconds),
    "overlap-seconds": String(options.overlapSeconds),
    format: options.format,
  };
  if (options.prompt !== undefined) meta.prompt = encodeMetadataValue(options.prompt);
  if (options.temperature !== undefined) meta.temperature = String(options.temperature);
  if (options.minSpeakers !== undefined) meta["min-speakers"] = String(options.minSpeakers);
  if (options.maxSpeakers !== undefined) meta["max-speakers"] = String(options.maxSpeakers);
  return meta;
}

function reasonOf(metadata: Record<string, string>): string {
  const parsed = parseJobOptions(metadata);
  if (parsed.ok) throw new Error(`expected a rejection of ${JSON.stringify(metadata)}`);
  return parsed.reason;
}

describe("parseJobOptions", () => {
  it("takes the defaults when the object has no metadata", () => {
    // Act
    const parsed = parseJobOptions({}, { chunkSeconds: 90, overlapSeconds: 3 }, "mistralai/Voxtral-Mini-3B-2507");
    // Assess
    expect(parsed).toEqual({
      ok: true,
      options: { ...DEFAULT_JOB_OPTIONS, chunkSeconds: 90, overlapSeconds: 3, model: "mistralai/Voxtral-Mini-3B-2507" },
    });
  });

  it("reads every option from S3 metadata", () => {
    // Prepare
    const metadata = {
      language: "DE",
      prompt: "  Quarterly earnings call.  ",
      temperature: "0.2",
      model: "openai/whisper-large-v3",
      task: "translate",
      diarize: "TRUE",
      "min-speakers": "2",
      "max-speakers": "4",
      "chunk-seconds": "300",
      "overlap-seconds": "5.5",
      format: "srt",
      "unrelated-tool-key": "whatever",
    };
    // Act
    const parsed = parseJobOptions(metadata);
    // Assess
    expect(parsed).toEqual({
      ok: true,
      options: {
        language: "de",
        prompt: "Quarterly earnings call.",
        temperature: 0.2,
        model: "openai/whisper-large-v3",
        task: "translate",
        diarize: true,
        minSpeakers: 2,
        maxSpeakers: 4,
        chunkSeconds: 300,
        overlapSeconds: 5.5,
        format: "srt",
      },
    });
  });

  it("leaves the segment length to the chunker unless the metadata or the defaults give one", () => {
    // Act
    const plain = parseJobOptions({});
    const asked = parseJobOptions({ "chunk-seconds": "AUTO" }, { chunkSeconds: 90 });
    const pinned = parseJobOptions({}, { chunkSeconds: 90 });
    const explicit = parseJobOptions({ "chunk-seconds": "45" }, { chunkSeconds: "auto" });
    // Assess
    expect(plain.ok && plain.options.chunkSeconds).toBe("auto");
    expect(asked.ok && asked.options.chunkSeconds).toBe("auto");
    expect(pinned.ok && pinned.options.chunkSeconds).toBe(90);
    expect(explicit.ok && explicit.options.chunkSeconds).toBe(45);
  });

  it("checks the overlap against an explicit length only (an automatic one is never shorter than 60 s)", () => {
    expect(parseJobOptions({ "overlap-seconds": "30" }).ok).toBe(true);
    expect(reasonOf({ "chunk-seconds": "25", "overlap-seconds": "30" })).toMatch(/less than chunk-seconds \(25\)/);
  });

  it("rejects an unknown language and suggests the code for a language name", () => {
    expect(reasonOf({ language: "xx" })).toMatch(/language 'xx' is not an ISO 639-1 code/);
    expect(reasonOf({ language: "english" })).toMatch(/did you mean 'en'/);
  });

  it("rejects values out of range, naming the key and the range", () => {
    expect(reasonOf({ temperature: "1.5" })).toMatch(/temperature '1.5' must be a number from 0 to 1/);
    expect(reasonOf({ temperature: "warm" })).toMatch(/temperature/);
    expect(reasonOf({ "min-speakers": "0" })).toMatch(/min-speakers '0' must be a whole number from 1 to 20/);
    expect(reasonOf({ "max-speakers": "2.5" })).toMatch(/max-speakers/);
    expect(reasonOf({ "min-speakers": "5", "max-speakers": "3" })).toMatch(/max-speakers \(3\) must be at least min-speakers \(5\)/);
    expect(reasonOf({ "chunk-seconds": "10" })).toMatch(/chunk-seconds '10' must be a number from 20 to 1200, or 'auto'/);
    expect(reasonOf({ "chunk-seconds": "automatic" })).toMatch(/chunk-seconds 'automatic'/);
    expect(reasonOf({ "overlap-seconds": "31" })).toMatch(/overlap-seconds/);
    expect(reasonOf({ "chunk-seconds": "20", "overlap-seconds": "20" })).toMatch(/less than chunk-seconds/);
    expect(reasonOf({ task: "summarize" })).toMatch(/task 'summarize' must be one of transcribe, translate/);
    expect(reasonOf({ diarize: "yes" })).toMatch(/diarize 'yes' must be true or false/);
    expect(reasonOf({ format: "docx" })).toMatch(/format 'docx' must be one of json, verbose_json, text, srt, vtt/);
    expect(reasonOf({ model: "bad model name" })).toMatch(/model/);
  });

  it("reports every problem at once", () => {
    expect(reasonOf({ language: "xx", temperature: "2" }).split("; ")).toHaveLength(2);
  });

  it("reports a rule between keys beside a bad key, judged on the keys that were good", () => {
    // Act
    const reason = reasonOf({ temperature: "9", "min-speakers": "5", "max-speakers": "3" });
    // Assess
    expect(reason.split("; ")).toEqual([
      "temperature '9' must be a number from 0 to 1",
      "max-speakers (3) must be at least min-speakers (5)",
    ]);
  });

  it("names the value as it was sent, in its own case", () => {
    expect(reasonOf({ task: "Summarize" })).toBe("task 'Summarize' must be one of transcribe, translate");
    expect(reasonOf({ language: "English" })).toBe(
      "language 'English' is not an ISO 639-1 code (did you mean 'en'?): use a two-letter code such as 'en', 'es', 'de', or 'auto'",
    );
  });

  it("takes a prompt from the defaults unless it is empty", () => {
    // Act
    const fromDefaults = parseJobOptions({}, { prompt: "Weekly sync." });
    const empty = parseJobOptions({}, { prompt: "" });
    // Assess
    expect(fromDefaults.ok && fromDefaults.options.prompt).toBe("Weekly sync.");
    expect(empty.ok && "prompt" in empty.options).toBe(false);
  });

  it("decodes a prompt sent as an RFC 2047 encoded word", () => {
    // Prepare
    const encoded = `=?UTF-8?B?${Buffer.from("会議の議事録", "utf8").toString("base64")}?=`;
    // Act
    const parsed = parseJobOptions({ prompt: encoded });
    // Assess
    expect(parsed.ok && parsed.options.prompt).toBe("会議の議事録");
  });

  it("treats header-style keys and empty values leniently", () => {
    // Act
    const parsed = parseJobOptions({ "X-Amz-Meta-Language": "fr", prompt: "" });
    // Assess
    expect(parsed).toEqual({ ok: true, options: { ...DEFAULT_JOB_OPTIONS, language: "fr" } });
  });
});

describe("optionsToMetadata and canonicalOptions", () => {
  const options: JobOptions = {
    language: "ja",
    prompt: "東京での会議",
    temperature: 0,
    model: "openai/whisper-large-v3",
    task: "transcribe",
    diarize: true,
    minSpeakers: 1,
    maxSpeakers: 3,
    chunkSeconds: 240,
    overlapSeconds: 4,
    format: "vtt",
  };

  it("writes metadata that parses back to the same options, in ASCII", () => {
    // Act
    const metadata = optionsToMetadata(options);
    // Assess
    for (const value of Object.values(metadata)) expect(value).toMatch(/^[\x20-\x7e]*$/);
    expect(parseJobOptions(metadata, { chunkSeconds: 60, diarize: false })).toEqual({ ok: true, options });
  });

  it("writes an automatic length as 'auto', which parses back to it", () => {
    // Act
    const metadata = optionsToMetadata({ ...options, chunkSeconds: "auto" });
    // Assess
    expect(metadata["chunk-seconds"]).toBe("auto");
    expect(parseJobOptions(metadata, { chunkSeconds: 60 })).toEqual({ ok: true, options: { ...options, chunkSeconds: "auto" } });
  });

  it("tells an automatic length from every explicit one, so the same upload is another job", () => {
    // Prepare
    const source = { bucket: "in", key: "a.mp3", etag: "e" };
    const auto = canonicalOptions({ ...options, chunkSeconds: "auto" });
    // Assess
    expect(auto).toContain('"chunkSeconds":"auto"');
    for (const seconds of [60, 65, 120]) {
      const explicit = canonicalOptions({ ...options, chunkSeconds: seconds });
      expect(explicit).not.toBe(auto);
      expect(makeJobId(source, explicit)).not.toBe(makeJobId(source, auto));
    }
  });

  it("gives the same string whatever order the fields were set in, and a different one for other options", () => {
    // Prepare
    const reordered = Object.fromEntries(Object.entries(options).reverse()) as unknown as JobOptions;
    // Act
    const a = canonicalOptions(options);
    const b = canonicalOptions(reordered);
    // Assess
    expect(a).toBe(b);
    expect(canonicalOptions({ ...options, temperature: 0.1 })).not.toBe(a);
  });
});

describe("metadataOptionsSchema", () => {
  it("reads the metadata keys into typed values and ignores keys it does not know", () => {
    // Act
    const parsed = metadataOptionsSchema.parse({ "chunk-seconds": "Auto", "max-speakers": "+3", diarize: "FALSE", other: "x" });
    // Assess
    expect(parsed).toEqual({ "chunk-seconds": "auto", "max-speakers": 3, diarize: false });
  });
});

describe("overlapFitsChunk", () => {
  it("holds an overlap shorter than the segment, whatever its share of it", () => {
    expect(overlapFitsChunk(30, 60)).toBe(true);
    expect(overlapFitsChunk(0, 20)).toBe(true);
    expect(overlapFitsChunk(20, 20)).toBe(false);
  });
});

describe("languages", () => {
  it("takes 'auto' or a code as a requested language, and sends a provider only a code", () => {
    expect(isLanguageChoice("auto")).toBe(true);
    expect(isLanguageChoice("de")).toBe(true);
    expect(isLanguageChoice("german")).toBe(false);
    expect(explicitLanguage("auto")).toBeUndefined();
    expect(explicitLanguage(undefined)).toBeUndefined();
    expect(explicitLanguage("de")).toBe("de");
  });

  it("knows every ISO 639-1 code and normalizes names and tags", () => {
    expect(ISO_639_1.size).toBe(183);
    expect(normalizeLanguage("english")).toBe("en");
    expect(normalizeLanguage("en-US")).toBe("en");
    expect(normalizeLanguage("Castilian")).toBe("es");
    expect(normalizeLanguage("Norwegian Bokmål")).toBe("nb");
    expect(normalizeLanguage("klingon")).toBeNull();
  });
});

describe("storedJobOptions", () => {
  it("reads back what parseJobOptions produced, typed", () => {
    // Prepare
    const parsed = parseJobOptions({ language: "en", "max-speakers": "2", "chunk-seconds": "90" }, { chunkSeconds: 120, overlapSeconds: 4 }, "openai/whisper-large-v3");
    if (!parsed.ok) throw new Error(parsed.reason);

    // Act
    const stored = storedJobOptions(JSON.parse(JSON.stringify(parsed.options)));

    // Assess
    expect(stored).toEqual(parsed.options);
  });

  it("refuses a record whose options are not a job's, as a permanent error naming the field", () => {
    expect(() => storedJobOptions({ metadata: { language: "elvish" } })).toThrow(PermanentError);
    expect(() => storedJobOptions({ ...DEFAULT_JOB_OPTIONS, chunkSeconds: "soon" })).toThrow(/options are not valid: chunkSeconds: /);
  });
});

describe("realtimeSessionOf", () => {
  it("reads the session a gateway recording names, and refuses what is not a session id", () => {
    // Act
    const named = realtimeSessionOf({ "realtime-session": "sess_0123456789abcdef01234567", model: "openai/whisper-large-v3" });
    const asSent = realtimeSessionOf({ "X-Amz-Meta-Realtime-Session": "sess_abc" });
    const none = realtimeSessionOf({ language: "en" });
    const bad = realtimeSessionOf({ "realtime-session": "SESSION#x" });

    // Assess
    expect(named).toEqual({ sessionId: "sess_0123456789abcdef01234567" });
    expect(asSent).toEqual({ sessionId: "sess_abc" });
    expect(none).toEqual({});
    expect(bad).toEqual({ invalid: "SESSION#x" });
  });

  it("is not an option: the same recording with or without it has the same options", () => {
    // Act
    const plain = parseJobOptions({ language: "en" });
    const fromSession = parseJobOptions({ language: "en", "realtime-session": "sess_abc" });

    // Assess
    expect(fromSession).toEqual(plain);
  });
});
