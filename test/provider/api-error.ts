/** Errors in the OpenAI/Together shape: {"error": {"message", "type", "param", "code"}}. */

export interface ApiError {
  status: number;
  message: string;
  type: string;
  param: string | null;
  code: string | null;
  headers?: Record<string, string>;
}

export function errorBody(error: ApiError): string {
  return JSON.stringify({ error: { message: error.message, type: error.type, param: error.param, code: error.code } });
}

export const invalidKey = (): ApiError => ({
  status: 401,
  message: "Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.",
  type: "invalid_request_error",
  param: null,
  code: "invalid_api_key",
});

export const badRequest = (message: string, param: string | null, code = "invalid_request"): ApiError => ({
  status: 400,
  message,
  type: "invalid_request_error",
  param,
  code,
});

export const tooLarge = (limit: number): ApiError => ({
  status: 413,
  message: `Request body exceeds the maximum upload size of ${limit} bytes.`,
  type: "invalid_request_error",
  param: "file",
  code: "request_too_large",
});

export const rateLimited = (retryAfterSeconds: number): ApiError => ({
  status: 429,
  message: "You have reached the rate limit specific to this model. Please try again later.",
  type: "rate_limit_exceeded",
  param: null,
  code: "rate_limit_exceeded",
  headers: {
    "retry-after": String(retryAfterSeconds),
    "x-ratelimit-limit": "60",
    "x-ratelimit-remaining": "0",
    "x-ratelimit-reset": String(retryAfterSeconds),
  },
});

export const serverError = (status: 500 | 503): ApiError => ({
  status,
  message: status === 503 ? "The server is overloaded or not ready yet." : "Internal server error",
  type: status === 503 ? "service_unavailable" : "server_error",
  param: null,
  code: null,
});

export const notFound = (path: string): ApiError => ({
  status: 404,
  message: `Unknown request URL: ${path}`,
  type: "invalid_request_error",
  param: null,
  code: "not_found",
});
