import { Logger } from "@aws-lambda-powertools/logger";
import { getSecret } from "@aws-lambda-powertools/parameters/secrets";
import { createClients } from "../clients.js";
import { configFromEnv, requireEnv } from "../config.js";
import { ffmpegPaths } from "../audio/ffmpeg.js";
import { createContext, type PipelineContext } from "../pipeline/context.js";
import { ENV } from "../wiring.js";

/** Cached for 5 minutes, so a rotated key is picked up without a redeploy and never fetched per request. */
const SECRET_MAX_AGE_SECONDS = 300;

/**
 * The Lambda composition root: clients, config and logger built once per
 * container. The provider key comes from Secrets Manager (the function gets
 * only the secret's ARN), or from STT_API_KEY where no secret is configured.
 */
export function lambdaContext(serviceName: string): PipelineContext {
  const env = process.env;
  const logger = new Logger({ serviceName });
  const apiKey = async (): Promise<string> => {
    const arn = env[ENV.apiKeySecretArn];
    if (!arn) return requireEnv(env, ENV.apiKey);
    const value = await getSecret<string>(arn, { maxAge: SECRET_MAX_AGE_SECONDS });
    if (!value) throw new Error("provider API key secret is empty");
    return parseSecret(value);
  };
  const config = configFromEnv(env, apiKey);
  const ffmpeg = ffmpegPaths({ ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath });
  return createContext(config, createClients(), ffmpeg, logger);
}

/** A secret holds the bare key, or JSON like {"apiKey": "..."} as the console's key/value editor writes it. */
function parseSecret(value: string): string {
  const trimmed = value.trim();
  if (!trimmed.startsWith("{")) return trimmed;
  const json = JSON.parse(trimmed) as Record<string, unknown>;
  const key = json.apiKey ?? json.api_key ?? json.key ?? Object.values(json)[0];
  if (typeof key !== "string" || !key) throw new Error("provider API key secret has no key field");
  return key;
}
