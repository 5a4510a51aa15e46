process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { runCli, type CliCommands } from "./program.js";

// Loaded when their command runs, so that `stt --help` does not load the AWS SDK and the emulators.
const commands: CliCommands = {
  transcribe: async (file, format, flags) => (await import("./transcribe.js")).runTranscribe(file, format, flags),
  up: async (ports) => (await import("./up.js")).runUp(ports),
  stream: async (file, format, flags) => (await import("./stream.js")).runStream(file, format, flags),
  status: async (jobId) => (await import("./inspect.js")).runStatus(jobId),
  get: async (jobId, format) => (await import("./inspect.js")).runGet(jobId, format),
};

runCli(process.argv.slice(2), commands, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = 1;
  },
);
