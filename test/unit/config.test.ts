import { describe, expect, it } from "vitest";
import { providerFromEnv } from "../../cli/provider-env.js";
import {
  configFromEnv,
  liveProviderOptions,
  parseProviderSecret,
  providerKeyFromEnv,
  secretFromEnv,
  type SecretReader,
} from "../../shared/config.js";
import { DEFAULTS, ENV, LIVE_PROVIDER_BUDGET, wiring } from "../../shared/wiring.js";

const RESOURCES = {
  [ENV.inputBucket]: "in",
  [ENV.workBucket]: "work",
  [ENV.outputBucket]: "out",
  [ENV.segmentsQueueUrl]: "http://q/segments",
  [ENV.stitchQueueUrl]: "http://q/stitch",
  [ENV.table]: "jobs",
  [ENV.topicArn]: "arn:aws:sns:us-east-1:000000000000:t",
};

/** A secret store holding `values` by ARN, counting reads. */
function secrets(values: Record<string, string>): SecretReader & { reads: string[] } {
  const reads: string[] = [];
  const read = async (arn: string) => {
    reads.push(arn);
    return values[arn];
  };
  return Object.assign(read, { reads });
}

describe("configuration from the environment", () => {
  it("fills what is unset with the one set of defaults", async () => {
    // Act
    const config = configFromEnv({ ...RESOURCES, [ENV.apiKey]: "k" });

    // Assess
    expect(config.provider).toMatchObject({
      baseUrl: DEFAULTS.baseUrl,
      model: DEFAULTS.model,
      timeoutMs: DEFAULTS.providerTimeoutMs,
      maxAttempts: DEFAULTS.providerMaxAttempts,
    });
    expect(config.defaults).toEqual({ chunkSeconds: DEFAULTS.chunkSeconds, overlapSeconds: DEFAULTS.overlapSeconds, segmentCap: wiring.provider.maxInFlight });
    expect(config.providerMaxInFlight).toBe(wiring.provider.maxInFlight);
    expect(config.maxRecordingSeconds).toBe(DEFAULTS.maxRecordingHours * 3600);
    expect(config.maxRunningJobs).toBe(DEFAULTS.maxRunningJobs);
    expect(await config.provider.apiKey()).toBe("k");
  });

  it("reads what the stack sets, and fails at start on a missing resource or a bad number", () => {
    // Act
    const config = configFromEnv({
      ...RESOURCES,
      [ENV.providerTimeoutMs]: "50000",
      [ENV.providerMaxAttempts]: "2",
      [ENV.providerMaxInFlight]: "12",
      [ENV.maxRecordingHours]: "0.5",
      [ENV.maxRunningJobs]: "7",
    });

    // Assess
    expect(config.provider.timeoutMs).toBe(50_000);
    expect(config.provider.maxAttempts).toBe(2);
    expect(config.providerMaxInFlight).toBe(12);
    expect(config.defaults.segmentCap).toBe(12);
    expect(config.maxRecordingSeconds).toBe(1800);
    expect(config.maxRunningJobs).toBe(7);
    expect(() => configFromEnv({ ...RESOURCES, [ENV.maxRunningJobs]: "lots" })).toThrow(/STT_MAX_RUNNING_JOBS is not a number/);
    expect(() => configFromEnv({ ...RESOURCES, [ENV.table]: undefined })).toThrow(/STT_TABLE/);
    expect(() => configFromEnv({ ...RESOURCES, [ENV.providerTimeoutMs]: "soon" })).toThrow(/STT_PROVIDER_TIMEOUT_MS is not a number/);
  });

  it("fits the batch budget in the transcriber's timeout, and gives the gateway the live one", () => {
    // Assess: attempts x timeout + two 20 s backoffs + 30 s of margin (infra/settings.ts checks the same)
    const budgetMs = DEFAULTS.providerMaxAttempts * DEFAULTS.providerTimeoutMs + 2 * 20_000 + 30_000;
    expect(budgetMs).toBeLessThanOrEqual(wiring.functions.transcriber.timeoutSeconds * 1000);
    const apiKey = async () => "k";
    expect(liveProviderOptions({ baseUrl: "https://p/v1", apiKey })).toEqual({ baseUrl: "https://p/v1", apiKey, ...LIVE_PROVIDER_BUDGET });
  });
});

describe("the provider key", () => {
  it("comes from STT_API_KEY, else TOGETHER_API_KEY, when no secret is named", async () => {
    // Assess
    expect(await providerKeyFromEnv({ [ENV.apiKey]: "a", [ENV.apiKeyFallback]: "b" })()).toBe("a");
    expect(await providerKeyFromEnv({ [ENV.apiKeyFallback]: "b" })()).toBe("b");
    await expect(providerKeyFromEnv({})()).rejects.toThrow(/missing environment variable STT_API_KEY/);
  });

  it("comes from the named secret, bare or as the console's JSON, on use and not before", async () => {
    // Prepare
    const store = secrets({ "arn:bare": "  sk-bare \n", "arn:json": '{"apiKey":"sk-json"}', "arn:empty": " " });

    // Act
    const bare = providerKeyFromEnv({ [ENV.apiKeySecretArn]: "arn:bare", [ENV.apiKey]: "ignored" }, store);
    const readsBeforeUse = store.reads.length;

    // Assess
    expect(readsBeforeUse).toBe(0);
    expect(await bare()).toBe("sk-bare");
    expect(await providerKeyFromEnv({ [ENV.apiKeySecretArn]: "arn:json" }, store)()).toBe("sk-json");
    await expect(providerKeyFromEnv({ [ENV.apiKeySecretArn]: "arn:empty" }, store)()).rejects.toThrow(/is empty/);
  });

  it("is parsed from a secret by one parser: bare, apiKey, api_key, key, else the first value", () => {
    // Assess
    expect(parseProviderSecret(" sk-1 ")).toBe("sk-1");
    expect(parseProviderSecret('{"apiKey":"sk-2"}')).toBe("sk-2");
    expect(parseProviderSecret('{"other":"x","api_key":"sk-3"}')).toBe("sk-3");
    expect(parseProviderSecret('{"key":"sk-4"}')).toBe("sk-4");
    expect(parseProviderSecret('{"TOGETHER_API_KEY":"sk-5"}')).toBe("sk-5");
    expect(() => parseProviderSecret("{}")).toThrow(/no key field/);
    expect(() => parseProviderSecret("{not json")).toThrow(/does not parse/);
  });

  it("reads any other secret the same way (the gateway's client keys)", async () => {
    // Prepare
    const store = secrets({ "arn:keys": "k1,k2" });

    // Assess
    expect(await secretFromEnv({ KEYS_ARN: "arn:keys" }, "KEYS_ARN", ["KEYS"], store)()).toBe("k1,k2");
    expect(await secretFromEnv({ KEYS: "plain" }, "KEYS_ARN", ["KEYS"], store)()).toBe("plain");
    await expect(secretFromEnv({}, "KEYS_ARN", ["KEYS"], store)()).rejects.toThrow(/missing environment variable KEYS/);
  });

  it("is what the CLI finds too, with the same defaults", () => {
    // Assess
    expect(providerFromEnv({ [ENV.apiKeyFallback]: "t" })).toEqual({ baseUrl: DEFAULTS.baseUrl, apiKey: "t", model: DEFAULTS.model });
    expect(providerFromEnv({ [ENV.apiKey]: "s", [ENV.baseUrl]: "https://x/v1", [ENV.model]: "m" })).toEqual({ baseUrl: "https://x/v1", apiKey: "s", model: "m" });
    expect(providerFromEnv({})).toBeNull();
  });
});
