process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { runCli, type CliCommands } from "./program.js";

// Loaded when their command runs, so that `stt --help` does not load the AWS SDK and the emulators.
const commands: CliCommands = {
  transcribe: async (file, format, flags) => (await import("./transcribe.js")).runTranscribe(file, format, flags),
  up: async (ports) => (await import("./up.js")).runUp(ports),
  stream: async (file, format, flags) => (await import("./stream.js")).runStream(file, format, flags),
  status: async (jobId) => (await import("./inspect.js")).runStatus(jobId),
  get: async (jobId, format) => (await import("./inspect.js")).runGet(jobId, format),
  voicesAdd: async (name, file) => (await import("./voices.js")).runVoicesAdd(name, file),
  voicesList: async () => (await import("./voices.js")).runVoicesList(),
  voicesRemove: async (name) => (await import("./voices.js")).runVoicesRemove(name),
  vocabulary: async (action) => (await import("./vocabulary.js")).runVocabulary(action),
  rename: async (jobId, speaker, name) => (await import("./inspect.js")).runRename(jobId, speaker, name),
  open: async (jobId, opts) => (await import("./open.js")).runOpen(jobId, opts),
  jobs: async (opts) => (await import("./jobs.js")).runJobs(opts),
  cancel: async (jobId) => (await import("./jobs.js")).runCancel(jobId),
  rerun: async (jobId, overrides) => (await import("./jobs.js")).runRerun(jobId, overrides),
  delete: async (jobId) => (await import("./jobs.js")).runDelete(jobId),
  cost: async (opts) => (await import("./cost.js")).runCost(opts),
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
