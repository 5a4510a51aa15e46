import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { startLocalStack, type LocalStack, type LocalStackOptions } from "../../local/stack.js";
import { sessionOn } from "../../cli/stack-session.js";
import { transcribeFile, type TranscribeFlags } from "../../cli/transcribe.js";
import type { OutputFormat } from "../../shared/domain/types.js";
import { DEFAULTS } from "../../shared/wiring.js";
import { startGroundTruthProvider } from "../provider/server.js";

export type GroundTruthProvider = Awaited<ReturnType<typeof startGroundTruthProvider>>;

export type TranscribeRunResult = Awaited<ReturnType<typeof transcribeFile>> & { stdout: string; stderr: string };

export interface Harness {
  provider: GroundTruthProvider;
  stack: LocalStack;
  workDir: string;
  transcribe(file: string, flags?: TranscribeFlags, format?: OutputFormat): Promise<TranscribeRunResult>;
  close(): Promise<void>;
}

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

/** The real pipeline on a private local stack against the ground-truth provider, driven through the CLI's own code. */
export async function startHarness(options: Partial<LocalStackOptions> & { providerSeed?: number } = {}): Promise<Harness> {
  const provider = await startGroundTruthProvider({ seed: options.providerSeed ?? 1 });
  const stack = await startLocalStack({
    provider: { baseUrl: provider.url, apiKey: provider.apiKey, model: DEFAULTS.model },
    visibilityTimeoutSeconds: 15,
    providerClient: { backoffBaseMs: 50, backoffMaxMs: 1000 },
    ...options,
  });
  const workDir = mkdtempSync(join(tmpdir(), "stt-test-"));
  return {
    provider,
    stack,
    workDir,
    async transcribe(file: string, flags: TranscribeFlags = {}, format: OutputFormat = "verbose_json") {
      const out = new Capture();
      const err = new Capture();
      const result = await transcribeFile({
        file,
        format,
        flags,
        provider: { baseUrl: provider.url, apiKey: provider.apiKey, model: DEFAULTS.model },
        open: async () => sessionOn(stack),
        out,
        err,
      });
      return { ...result, stdout: out.text, stderr: err.text };
    },
    async close() {
      await stack.stop();
      await provider.close();
    },
  };
}
