/**
 * A bare multipart client for the provider's endpoints, for tests that check the provider itself
 * (the pipeline has its own client). Uses undici, the same HTTP stack as Node's fetch.
 */
import { FormData, request } from "undici";

export interface PostAudioResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface PostAudioFields {
  model?: string;
  response_format?: string;
  timestamp_granularities?: string[];
  diarize?: boolean;
  min_speakers?: number;
  max_speakers?: number;
  language?: string;
  prompt?: string;
  temperature?: number;
}

export async function postAudio(
  baseUrl: string,
  apiKey: string | undefined,
  audio: Uint8Array,
  fields: PostAudioFields = {},
  options: { endpoint?: "transcriptions" | "translations"; filename?: string } = {},
): Promise<PostAudioResult> {
  const form = new FormData();
  form.append("file", new Blob([audio]), options.filename ?? "audio.flac");
  form.append("model", fields.model ?? "openai/whisper-large-v3");
  if (fields.response_format) form.append("response_format", fields.response_format);
  for (const granularity of fields.timestamp_granularities ?? []) form.append("timestamp_granularities[]", granularity);
  if (fields.diarize !== undefined) form.append("diarize", String(fields.diarize));
  if (fields.min_speakers !== undefined) form.append("min_speakers", String(fields.min_speakers));
  if (fields.max_speakers !== undefined) form.append("max_speakers", String(fields.max_speakers));
  if (fields.language) form.append("language", fields.language);
  if (fields.prompt) form.append("prompt", fields.prompt);
  if (fields.temperature !== undefined) form.append("temperature", String(fields.temperature));
  const response = await request(`${baseUrl}/audio/${options.endpoint ?? "transcriptions"}`, {
    method: "POST",
    headers: apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` },
    body: form,
  });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}
