/**
 * Every failure the pipeline raises says whether trying again can help.
 * The kind is decided where the cause is known (provider client, probe,
 * option parsing) and acted on in one place: the SQS batch handler retries
 * retryable errors and turns permanent ones into a FAILED job.
 */
export type ErrorKind = "retryable" | "permanent";

export class PipelineError extends Error {
  readonly kind: ErrorKind;
  /** Machine-readable reason, e.g. `provider_401`, `no_audio_stream`. */
  readonly code: string;

  constructor(kind: ErrorKind, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.code = code;
    this.name = kind === "retryable" ? "RetryableError" : "PermanentError";
  }
}

export class RetryableError extends PipelineError {
  /** Seconds the caller asked us to wait (e.g. a provider's Retry-After). */
  readonly retryAfterSeconds?: number;
  constructor(code: string, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super("retryable", code, message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export class PermanentError extends PipelineError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super("permanent", code, message, options);
  }
}

export function isPermanent(error: unknown): error is PermanentError {
  return error instanceof PipelineError && error.kind === "permanent";
}

/** A one-line reason fit for a job record and a notification (never transcript text). */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, " ").trim().slice(0, 500);
}
