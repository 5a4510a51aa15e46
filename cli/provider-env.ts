import { DEFAULTS } from "../shared/wiring.js";

export interface ProviderEnv {
  baseUrl: string;
  apiKey: string;
  model: string;
}

/** Provider settings from the environment; null when no key is set (the caller says what to set). */
export function providerFromEnv(env = process.env): ProviderEnv | null {
  const apiKey = env.STT_API_KEY || env.TOGETHER_API_KEY;
  if (!apiKey) return null;
  return { baseUrl: env.STT_BASE_URL || DEFAULTS.baseUrl, apiKey, model: env.STT_MODEL || DEFAULTS.model };
}

export const MISSING_KEY_MESSAGE =
  "error: set STT_API_KEY (or TOGETHER_API_KEY) to your provider's API key, or run `npm run demo` to try the pipeline with the built-in test provider";
