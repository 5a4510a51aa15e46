process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { OUTPUT_FORMATS, type OutputFormat } from "../shared/domain/types.js";
import { DEFAULTS } from "../shared/wiring.js";
import { runTranscribe } from "./transcribe.js";
import { runUp } from "./up.js";
import { runStatus, runGet } from "./inspect.js";
import { runStream } from "./stream.js";

const USAGE = `usage:
  stt transcribe <file> [options]   transcribe a file through the local pipeline (npm start -- <file>)
  stt up [--port 4566] [--dynamodb-port 4567] [--realtime-port 4568]
                                    run the local stack (and the realtime gateway) in the foreground
  stt stream <file> [--speed N] [--format verbose_json]
                                    stream a file through the realtime gateway at real-time speed
                                    (N times faster with --speed), then print the session's transcript
  stt status <jobId>                show a job's record
  stt get <jobId> [--format text]   print a finished job's transcript

transcribe options:
  --format json|verbose_json|text|srt|vtt   output on stdout (default text)
  --language <code>      ISO-639-1 code or auto     --prompt <text>
  --temperature <0..1>   --model <name>             --translate
  --no-diarize           --min-speakers <n>         --max-speakers <n>
  --chunk-seconds <s|auto>  --overlap-seconds <s>

stream options:
  --speed <n>            --url <ws://...>           --key <gateway key>
  --language <code>      --model <name>             --format (as transcribe; waits for the batch job)

environment: STT_API_KEY (or TOGETHER_API_KEY), STT_BASE_URL (default ${DEFAULTS.baseUrl}),
             STT_MODEL (default ${DEFAULTS.model})`;

export class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: "string" },
      language: { type: "string" },
      prompt: { type: "string" },
      temperature: { type: "string" },
      model: { type: "string" },
      translate: { type: "boolean" },
      "no-diarize": { type: "boolean" },
      "min-speakers": { type: "string" },
      "max-speakers": { type: "string" },
      "chunk-seconds": { type: "string" },
      "overlap-seconds": { type: "string" },
      port: { type: "string" },
      "dynamodb-port": { type: "string" },
      "realtime-port": { type: "string" },
      speed: { type: "string" },
      url: { type: "string" },
      key: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const format = (values.format ?? "text") as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(", ")}`);
  switch (command) {
    case "transcribe": {
      const file = rest[0];
      if (!file) throw new UsageError("transcribe needs a file");
      if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
      return runTranscribe(file, format, values);
    }
    case "up":
      return runUp({
        awsPort: Number(values.port ?? 4566),
        dynamodbPort: Number(values["dynamodb-port"] ?? 4567),
        realtimePort: values["realtime-port"] === undefined ? undefined : Number(values["realtime-port"]),
      });
    case "stream": {
      const file = rest[0];
      if (!file) throw new UsageError("stream needs a file");
      if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
      return runStream(file, values.format === undefined ? undefined : format, values);
    }
    case "status":
      if (!rest[0]) throw new UsageError("status needs a job id");
      return runStatus(rest[0]);
    case "get":
      if (!rest[0]) throw new UsageError("get needs a job id");
      return runGet(rest[0], format);
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`error: ${error.message}\n`);
    if (error instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
