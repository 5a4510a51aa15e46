import { plainProviderKey, providerConfigFromEnv, type Env } from "../shared/config.js";

export interface ProviderEnv {
  baseUrl: string;
  apiKey: string;
  model: string;
}

/**
 * Provider settings from the environment, read as the pipeline reads them (shared/config.ts: the same
 * variables, the same defaults); null when no key is set (the caller says what to set).
 */
export function providerFromEnv(env: Env = process.env): ProviderEnv | null {
  const apiKey = plainProviderKey(env);
  if (!apiKey) return null;
  const { baseUrl, model } = providerConfigFromEnv(env, async () => apiKey);
  return { baseUrl, apiKey, model };
}

export const MISSING_KEY_MESSAGE =
  "error: set STT_API_KEY (or TOGETHER_API_KEY) to your provider's API key, or run `npm run demo` to try the pipeline with the built-in test provider";
