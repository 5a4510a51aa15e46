/** The multipart fields of a transcription/translation request, parsed and checked like the real API. */
import { badRequest, type ApiError } from "./api-error.js";

export type ResponseFormat = "json" | "verbose_json" | "text";

export interface TranscriptionRequest {
  file: Uint8Array;
  model: string;
  responseFormat: ResponseFormat;
  granularities: Set<"word" | "segment">;
  diarize: boolean;
  minSpeakers?: number;
  maxSpeakers?: number;
  language?: string;
  prompt?: string;
  temperature?: number;
}

const DEFAULT_MODEL = "openai/whisper-large-v3";

/** Parses a multipart body with the WHATWG Request built into Node, as any browser would. */
export async function parseTranscriptionRequest(
  body: Buffer,
  contentType: string,
  knownModels: string[] | null,
): Promise<TranscriptionRequest | ApiError> {
  let form: FormData;
  try {
    form = await new Request("http://provider.local/", { method: "POST", headers: { "content-type": contentType }, body }).formData();
  } catch {
    return badRequest("Request body must be multipart/form-data with a file field.", null);
  }
  const file = form.get("file");
  if (!file || typeof file === "string") return badRequest("Missing required parameter: 'file'.", "file", "missing_required_parameter");

  const model = text(form, "model") ?? DEFAULT_MODEL;
  if (knownModels && !knownModels.includes(model)) return badRequest(`Model not available: ${model}`, "model", "model_not_available");

  const responseFormat = text(form, "response_format") ?? "json";
  if (responseFormat !== "json" && responseFormat !== "verbose_json" && responseFormat !== "text") {
    return badRequest(`Invalid response_format '${responseFormat}'. Use json, verbose_json or text.`, "response_format");
  }

  const granularities = new Set<"word" | "segment">();
  const rawGranularities = [...form.getAll("timestamp_granularities"), ...form.getAll("timestamp_granularities[]")]
    .filter((value): value is string => typeof value === "string")
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
  for (const value of rawGranularities) {
    if (value !== "word" && value !== "segment") return badRequest(`Invalid timestamp granularity '${value}'.`, "timestamp_granularities");
    granularities.add(value);
  }
  if (granularities.size === 0) granularities.add("segment");

  const speakers = (name: string): number | undefined | ApiError => {
    const value = text(form, name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    return Number.isInteger(parsed) && parsed >= 1 ? parsed : badRequest(`${name} must be a positive integer.`, name);
  };
  const minSpeakers = speakers("min_speakers");
  if (typeof minSpeakers === "object") return minSpeakers;
  const maxSpeakers = speakers("max_speakers");
  if (typeof maxSpeakers === "object") return maxSpeakers;

  const temperatureText = text(form, "temperature");
  const temperature = temperatureText === undefined ? undefined : Number(temperatureText);
  if (temperature !== undefined && !(temperature >= 0 && temperature <= 1)) {
    return badRequest("temperature must be between 0 and 1.", "temperature");
  }

  return {
    file: new Uint8Array(await file.arrayBuffer()),
    model,
    responseFormat,
    granularities,
    diarize: (text(form, "diarize") ?? "false").toLowerCase() === "true",
    minSpeakers,
    maxSpeakers,
    language: text(form, "language"),
    prompt: text(form, "prompt"),
    temperature,
  };
}

function text(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === "string" ? value : undefined;
}
