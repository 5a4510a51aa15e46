/**
 * The `stt` command line: every command with its own options and help, parsed by commander. Only the
 * parsing lives here (and loads nothing heavy), so `stt --help` is instant and the rules are tested
 * without a stack; what each command does is behind `CliCommands`.
 *
 * Exit codes: 0 done (and --help, --version), 1 the work failed, 2 the command line was wrong (an unknown
 * command or option, a missing or bad value, a missing file or key), with the command's usage on stderr.
 */
import { existsSync, readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { OUTPUT_FORMATS, type OutputFormat } from "../shared/domain/types.js";
import { DEFAULTS } from "../shared/wiring.js";
import { optionProblem, type TranscribeFlags } from "./transcribe-options.js";
import type { StreamFlags } from "./stream.js";

export interface UpPorts {
  awsPort: number;
  dynamodbPort: number;
  realtimePort?: number;
}

/** What the commands do, once their command line is known to be right. Each resolves to an exit code. */
export interface CliCommands {
  transcribe(file: string, format: OutputFormat, flags: TranscribeFlags): Promise<number>;
  up(ports: UpPorts): Promise<number>;
  stream(file: string, format: OutputFormat | undefined, flags: StreamFlags): Promise<number>;
  status(jobId: string): Promise<number>;
  get(jobId: string, format: OutputFormat): Promise<number>;
}

export interface CliOutput {
  /** Help and version. */
  out: (text: string) => void;
  /** Errors and the usage that follows them. */
  err: (text: string) => void;
}

export const USAGE_EXIT_CODE = 2;

export const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

const ENVIRONMENT = `
Environment:
  STT_API_KEY (or TOGETHER_API_KEY)  provider API key
  STT_BASE_URL                       provider base URL (default ${DEFAULTS.baseUrl})
  STT_MODEL                          default model (default ${DEFAULTS.model})
  STT_STATE_DIR                      local state folder (default .stt)`;

function portNumber(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError("Expected a port number from 0 to 65535.");
  return Number(value);
}

function speedFactor(value: string): number {
  const speed = /^\d+(\.\d+)?$|^\.\d+$/.test(value) ? Number(value) : NaN;
  if (!(speed > 0 && speed <= 1000)) throw new InvalidArgumentError("Expected a number above 0, at most 1000 (1 = real time).");
  return speed;
}

const formatOption = (description: string) => new Option("--format <format>", description).choices(OUTPUT_FORMATS);

/** A file argument that must exist: checked before any stack starts. */
function requireFile(command: Command, file: string): void {
  if (!existsSync(file)) command.error(`error: no such file: ${file}`, { exitCode: USAGE_EXIT_CODE, code: "stt.noSuchFile" });
}

/** The whole command line; `exitCode` receives what the command that ran returned. */
export function createProgram(commands: CliCommands, output: CliOutput, exitCode: (code: number) => void): Command {
  const program = new Command("stt")
    .description("Speech-to-text for long recordings, on a local stack of emulators or on AWS.")
    .version(VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .configureOutput({ writeOut: output.out, writeErr: output.err, outputError: (text, write) => write(text) })
    .showHelpAfterError()
    // Thrown, not process.exit: runCli turns it into the exit code, and tests can call it.
    .exitOverride()
    .addHelpText("after", `${ENVIRONMENT}\n\nRun 'stt <command> --help' for a command's options.`);

  program
    .command("transcribe")
    .summary("transcribe a file through the local pipeline (npm start -- <file>)")
    .description(
      "Transcribe a file through the whole pipeline on the local stack: the one `stt up` or another run in this " +
        "folder runs, else one started for this run. Progress goes to stderr, the transcript to stdout.",
    )
    .argument("<file>", "audio or video file")
    .addOption(formatOption("transcript format on stdout").default("text"))
    .option("--language <code>", "ISO-639-1 code, or auto (default: auto)")
    .option("--prompt <text>", "text that guides the model (names, terms)")
    .option("--temperature <t>", "sampling temperature, 0..1")
    .option("--model <name>", "provider model (default: $STT_MODEL, else the stack's)")
    .option("--translate", "translate to English")
    .option("--no-diarize", "no speaker labels")
    .option("--min-speakers <n>", "at least this many speakers, 1..20")
    .option("--max-speakers <n>", "at most this many speakers, 1..20, at least --min-speakers")
    .option("--chunk-seconds <s>", "segment length, 20..1200, or auto (default: auto)")
    .option("--overlap-seconds <s>", `overlap between segments, 0..30, less than the segment (default: ${DEFAULTS.overlapSeconds})`)
    .addHelpText("after", ENVIRONMENT)
    .action(async (file: string, opts: TranscribeOpts, command: Command) => {
      const flags = transcribeFlags(opts);
      // The chunker's own rules, before a stack starts or a byte is uploaded.
      const problem = optionProblem(flags, process.env.STT_MODEL || DEFAULTS.model);
      if (problem) command.error(`error: ${problem}`, { exitCode: USAGE_EXIT_CODE, code: "stt.invalidOption" });
      requireFile(command, file);
      exitCode(await commands.transcribe(file, opts.format, flags));
    });

  program
    .command("up")
    .summary("run the local stack (and the realtime gateway) in the foreground")
    .description("Run the local stack and the realtime gateway in the foreground, for dropping files and querying by hand; Ctrl-C stops it.")
    .addOption(new Option("--port <port>", "S3 / SQS / SNS (fauxqs) port").argParser(portNumber).default(4566))
    .addOption(new Option("--dynamodb-port <port>", "DynamoDB (dynalite) port").argParser(portNumber).default(4567))
    .addOption(new Option("--realtime-port <port>", "realtime gateway port (default: $STT_REALTIME_PORT, else 4568)").argParser(portNumber))
    .addHelpText("after", ENVIRONMENT)
    .action(async (opts: { port: number; dynamodbPort: number; realtimePort?: number }) => {
      exitCode(await commands.up({ awsPort: opts.port, dynamodbPort: opts.dynamodbPort, realtimePort: opts.realtimePort }));
    });

  program
    .command("stream")
    .summary("stream a file through the realtime gateway, then print the session's transcript")
    .description(
      "Stream a file through the realtime gateway at real-time speed (N times faster with --speed), showing each " +
        "utterance as it is transcribed; with --format, wait for the session's batch job and print its transcript.",
    )
    .argument("<file>", "audio or video file")
    .addOption(new Option("--speed <n>", "how many times faster than real time").argParser(speedFactor))
    .option("--url <ws-url>", "gateway URL (default: the one `stt up` serves)")
    .option("--key <key>", "gateway key (default: $STT_GATEWAY_KEYS, else the one `stt up` made)")
    .option("--language <code>", "ISO-639-1 code")
    .option("--model <name>", "provider model")
    .addOption(formatOption("then wait for the session's batch job and print its transcript (needs `stt up`)"))
    .action(async (file: string, opts: StreamFlags & { format?: OutputFormat }, command: Command) => {
      requireFile(command, file);
      const { format, ...flags } = opts;
      exitCode(await commands.stream(file, format, flags));
    });

  program
    .command("status")
    .summary("show a job's record")
    .description("Print a job's record as JSON; exit 1 if the job failed or is unknown.")
    .argument("<jobId>", "the job id `stt transcribe` printed")
    .action(async (jobId: string) => exitCode(await commands.status(jobId)));

  program
    .command("get")
    .summary("print a finished job's transcript")
    .description("Print a finished job's transcript; exit 1 if the job is unknown or has not completed.")
    .argument("<jobId>", "the job id `stt transcribe` printed")
    .addOption(formatOption("transcript format").default("text"))
    .action(async (jobId: string, opts: { format: OutputFormat }) => exitCode(await commands.get(jobId, opts.format)));

  return program;
}

interface TranscribeOpts {
  format: OutputFormat;
  language?: string;
  prompt?: string;
  temperature?: string;
  model?: string;
  translate?: boolean;
  diarize: boolean;
  minSpeakers?: string;
  maxSpeakers?: string;
  chunkSeconds?: string;
  overlapSeconds?: string;
}

function transcribeFlags(opts: TranscribeOpts): TranscribeFlags {
  const flags: TranscribeFlags = {
    language: opts.language,
    prompt: opts.prompt,
    temperature: opts.temperature,
    model: opts.model,
    translate: opts.translate,
    "no-diarize": opts.diarize === false ? true : undefined,
    "min-speakers": opts.minSpeakers,
    "max-speakers": opts.maxSpeakers,
    "chunk-seconds": opts.chunkSeconds,
    "overlap-seconds": opts.overlapSeconds,
  };
  return Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined)) as TranscribeFlags;
}

/** Parses `argv` (without node and the script) and runs the command it names; resolves to the exit code. */
export async function runCli(argv: readonly string[], commands: CliCommands, output: CliOutput): Promise<number> {
  let code = 0;
  const program = createProgram(commands, output, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    // Help and version "exit" with 0; every other commander error is a wrong command line.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    throw error;
  }
}
