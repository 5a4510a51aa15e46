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
import { checkSpeakerName, MAX_SPEAKER_NAME_CHARS } from "../shared/domain/speakers/speaker-names.js";
import { flagsToMetadata, optionProblem, type TranscribeFlags } from "./transcribe-options.js";
import { JOB_STATUSES, type JobStatus } from "../shared/domain/jobs/job-event.js";
import { VOICE_NAME } from "../shared/domain/options/options.js";
import type { StreamFlags } from "./stream.js";
import { DEFAULT_VIEWER_PORT, isJobId } from "../shared/viewer/urls.js";
import { redactUrl, urlArgumentKind } from "../shared/sources/url-pointer.js";

export interface UpPorts {
  awsPort: number;
  dynamodbPort: number;
  realtimePort?: number;
  viewerPort: number;
}

/** What the commands do, once their command line is known to be right. Each resolves to an exit code. */
/** `stt vocabulary add|list|remove` (cli/vocabulary.ts). */
export type VocabularyAction =
  | { action: "add"; kind: "vocabulary" | "filter"; name: string; file: string }
  | { action: "list" }
  | { action: "remove"; kind: "vocabulary" | "filter"; name: string };

export interface CliCommands {
  transcribe(file: string, format: OutputFormat, flags: TranscribeFlags): Promise<number>;
  up(ports: UpPorts): Promise<number>;
  stream(file: string, format: OutputFormat | undefined, flags: StreamFlags): Promise<number>;
  status(jobId: string): Promise<number>;
  get(jobId: string, format: OutputFormat): Promise<number>;
  /** Enrolled voices (cli/voices.ts): register a clip, list, remove. */
  voicesAdd(name: string, file: string): Promise<number>;
  voicesList(): Promise<number>;
  voicesRemove(name: string): Promise<number>;
  /** Registered word lists (cli/vocabulary.ts): custom vocabularies and vocabulary filters. */
  vocabulary(action: VocabularyAction): Promise<number>;
  /** `name` null: the speaker shows as its label again. */
  rename(jobId: string, speakerId: string, name: string | null): Promise<number>;
  /** Prints the URL of a job's page in the viewer `stt up` serves; `browser` also opens it. */
  open(jobId: string, opts: { browser: boolean }): Promise<number>;
  /** Job control (cli/jobs.ts): list, cancel, run again with other options, delete. */
  jobs(opts: JobsListing): Promise<number>;
  cancel(jobId: string): Promise<number>;
  /** `overrides`: the options to change, as upload metadata (the keys of the README's options table). */
  rerun(jobId: string, overrides: Record<string, string>): Promise<number>;
  delete(jobId: string): Promise<number>;
  /** The deployment's spend on a UTC day (cli/cost.ts): today's unless `day` (YYYY-MM-DD) is given. */
  cost(opts: { day?: string; json: boolean }): Promise<number>;
}

/** `stt jobs`: newest first, at most `limit`, only `status` when given. */
export interface JobsListing {
  status?: JobStatus;
  limit: number;
  json: boolean;
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
    .argument("<file>", "audio or video file, or an https URL the pipeline fetches")
    .addOption(formatOption("transcript format on stdout").default("text"))
    .option("--language <code>", "ISO-639-1 code, or auto (default: auto)")
    .option("--language-options <codes>", "with auto: the languages segments may be heard in, 2..10 codes, most likely first (en,de,fr)")
    .option("--prompt <text>", "text that guides the model (names, terms)")
    .option("--temperature <t>", "sampling temperature, 0..1")
    .option("--model <name>", "provider model (default: $STT_MODEL, else the stack's)")
    .option("--translate", "translate to English")
    .option("--no-diarize", "no speaker labels")
    .option("--min-speakers <n>", "at least this many speakers, 1..20")
    .option("--max-speakers <n>", "at most this many speakers, 1..20, at least --min-speakers")
    .option("--chunk-seconds <s>", "segment length, 20..1200, or auto (default: auto)")
    .option("--overlap-seconds <s>", `overlap between segments, 0..30, less than the segment (default: ${DEFAULTS.overlapSeconds})`)
    .option("--speakers <names>", "name these enrolled voices where they speak: alice,bob or * (see `stt voices`)")
    .option("--max-cost <usd>", "fail the job before anything reaches the provider if its estimate is over this many US dollars")
    .option("--vocabulary <name>", "a registered custom vocabulary: its terms guide the model and fix near-miss spellings (see `stt vocabulary`)")
    .option("--filter <name>", "a registered vocabulary filter: its words are masked, removed or tagged (see `stt vocabulary`)")
    .option("--filter-method <method>", "what --filter does to its words: mask (default), remove or tag")
    .option("--redact <kind>", "pii: also write redacted outputs and audio (e-mail, phone, card, IBAN and other long numbers)")
    .option("--channels <names>", "transcribe each channel of a stereo call on its own, its words named by channel: agent,caller")
    .addHelpText("after", ENVIRONMENT)
    .action(async (file: string, opts: TranscribeOpts, command: Command) => {
      const flags = transcribeFlags(opts);
      // The chunker's own rules, before a stack starts or a byte is uploaded.
      const problem = optionProblem(flags, process.env.STT_MODEL || DEFAULTS.model);
      if (problem) command.error(`error: ${problem}`, { exitCode: USAGE_EXIT_CODE, code: "stt.invalidOption" });
      // A recording by URL is fetched by the chunker (shared/sources/); only https is accepted there.
      const kind = urlArgumentKind(file);
      if (kind === "other-url") command.error(`error: only https URLs are accepted: ${redactUrl(file)}`, { exitCode: USAGE_EXIT_CODE, code: "stt.badUrl" });
      if (kind === "path") requireFile(command, file);
      exitCode(await commands.transcribe(file, opts.format, flags));
    });

  program
    .command("up")
    .summary("run the local stack (and the realtime gateway) in the foreground")
    .description("Run the local stack and the realtime gateway in the foreground, for dropping files and querying by hand; Ctrl-C stops it.")
    .addOption(new Option("--port <port>", "S3 / SQS / SNS (fauxqs) port").argParser(portNumber).default(4566))
    .addOption(new Option("--dynamodb-port <port>", "DynamoDB (dynalite) port").argParser(portNumber).default(4567))
    .addOption(new Option("--realtime-port <port>", "realtime gateway port (default: $STT_REALTIME_PORT, else 4568)").argParser(portNumber))
    .addOption(new Option("--viewer-port <port>", "transcript viewer port (http://127.0.0.1:<port>/)").argParser(portNumber).default(DEFAULT_VIEWER_PORT))
    .addHelpText("after", ENVIRONMENT)
    .action(async (opts: { port: number; dynamodbPort: number; realtimePort?: number; viewerPort: number }) => {
      exitCode(
        await commands.up({ awsPort: opts.port, dynamodbPort: opts.dynamodbPort, realtimePort: opts.realtimePort, viewerPort: opts.viewerPort }),
      );
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

  const voices = program
    .command("voices")
    .summary("register people's voices, so transcripts can name them (--speakers)")
    .description(
      "Enrolled voices: a clip of 3-30 s of one person speaking alone, registered once under a name. A job with " +
        "--speakers alice,bob (or metadata speakers=alice,bob; * for all) names those voices where it hears them.",
    );
  voices
    .command("add")
    .description("register a voice from a clip of one person speaking alone, 3-30 s; exit 1 if the clip is refused (the reason on stderr)")
    .argument("<name>", "1-40 letters, digits, '-', '_' or '.'")
    .argument("<file>", "audio file")
    .action(async (name: string, file: string, _opts: unknown, command: Command) => {
      if (!VOICE_NAME.test(name)) {
        command.error(`error: voice name '${name}' must be 1-40 letters, digits, '-', '_' or '.', starting with a letter or digit`, {
          exitCode: USAGE_EXIT_CODE,
          code: "stt.invalidOption",
        });
      }
      requireFile(command, file);
      exitCode(await commands.voicesAdd(name, file));
    });
  voices
    .command("list")
    .description("list the registered voices: name, READY or REFUSED, and the clip's length or the reason")
    .action(async () => exitCode(await commands.voicesList()));
  voices
    .command("remove")
    .description("remove a registered voice (its clip too); exit 1 if there is none")
    .argument("<name>", "the voice's name")
    .action(async (name: string) => exitCode(await commands.voicesRemove(name)));

  const vocabulary = program
    .command("vocabulary")
    .summary("register word lists: custom vocabularies (--vocabulary) and filters (--filter)")
    .description(
      "Word lists, one term or phrase per line. A custom vocabulary's terms go into every segment's prompt and fix " +
        "near-miss spellings in the transcript; a filter's words are masked, removed or tagged (--filter-method).",
    );
  vocabulary
    .command("add")
    .description("register a list from a text file; exit 1 if it is refused (the reason on stderr)")
    .option("--filter", "register a vocabulary filter instead of a custom vocabulary")
    .argument("<name>", "1-40 letters, digits, '-', '_' or '.'")
    .argument("<file>", "text file, one term per line")
    .action(async (name: string, file: string, opts: { filter?: boolean }, command: Command) => {
      if (!VOICE_NAME.test(name)) {
        command.error(`error: list name '${name}' must be 1-40 letters, digits, '-', '_' or '.', starting with a letter or digit`, {
          exitCode: USAGE_EXIT_CODE,
          code: "stt.invalidOption",
        });
      }
      requireFile(command, file);
      exitCode(await commands.vocabulary({ action: "add", kind: opts.filter ? "filter" : "vocabulary", name, file }));
    });
  vocabulary
    .command("list")
    .description("list the registered lists: kind, name, READY or REFUSED, and the term count or the reason")
    .action(async () => exitCode(await commands.vocabulary({ action: "list" })));
  vocabulary
    .command("remove")
    .description("remove a registered list (its file too); exit 1 if there is none")
    .option("--filter", "remove a vocabulary filter")
    .argument("<name>", "the list's name")
    .action(async (name: string, opts: { filter?: boolean }) =>
      exitCode(await commands.vocabulary({ action: "remove", kind: opts.filter ? "filter" : "vocabulary", name })),
    );

  program
    .command("rename")
    .summary("name a finished job's speaker in every output")
    .description(
      "Give a completed job's speaker (a label such as SPEAKER_01) a person's name: every output file and utterance " +
        "shows it from then on, and subscribers get a TRANSCRIPT_CHANGED notification. --clear shows the label again. " +
        "Exit 1 if the job is unknown, not completed, or has no such speaker.",
    )
    .argument("<jobId>", "the job id `stt transcribe` printed")
    .argument("<speaker>", "the speaker's label, e.g. SPEAKER_01")
    .argument("[name]", `the name to show, 1..${MAX_SPEAKER_NAME_CHARS} characters`)
    .option("--clear", "remove the speaker's name: show its label again")
    .action(async (jobId: string, speaker: string, name: string | undefined, opts: { clear?: boolean }, command: Command) => {
      if (opts.clear && name !== undefined) command.error("error: give a name or --clear, not both", { exitCode: USAGE_EXIT_CODE, code: "stt.invalidOption" });
      if (!opts.clear && name === undefined) command.error("error: missing argument 'name' (or --clear)", { exitCode: USAGE_EXIT_CODE, code: "stt.missingArgument" });
      let value: string | null = null;
      if (name !== undefined) {
        const checked = checkSpeakerName(name);
        if (!checked.ok) command.error(`error: ${checked.reason}`, { exitCode: USAGE_EXIT_CODE, code: "stt.invalidOption" });
        value = checked.ok ? checked.name : null;
      }
      exitCode(await commands.rename(jobId, speaker, value));
    });

  program
    .command("open")
    .summary("print the URL of a job's page in the transcript viewer (`stt up` serves it)")
    .description(
      "Print the URL of a job's page in the transcript viewer that `stt up` serves in this folder: the transcript " +
        "with its player, speaker timeline, search, speaker names and downloads. Exit 1 if no viewer runs or the job is unknown.",
    )
    .argument("<jobId>", "the job id `stt transcribe` printed")
    .option("--browser", "also open it in the desktop's browser (xdg-open)")
    .action(async (jobId: string, opts: { browser?: boolean }, command: Command) => {
      if (!isJobId(jobId)) command.error(`error: '${jobId}' is not a job id (24 hex digits)`, { exitCode: USAGE_EXIT_CODE, code: "stt.invalidArgument" });
      exitCode(await commands.open(jobId, { browser: opts.browser === true }));
    });

  addJobControl(program, commands, exitCode);

  program
    .command("cost")
    .summary("what the stack spent on a day (UTC), against the daily limit")
    .description(
      "Print what the jobs of a UTC day cost, as the day's counter in the job table holds it: each job's estimate is " +
        "reserved when it starts and corrected to its cost when it ends. The limit is STT_MAX_DAILY_COST (AWS: maxDailyCost).",
    )
    .addOption(new Option("--day <YYYY-MM-DD>", "the day (UTC), default today").argParser(costDayArgument))
    .option("--json", "print the counter as JSON")
    .action(async (opts: { day?: string; json?: boolean }) => exitCode(await commands.cost({ day: opts.day, json: opts.json === true })));
  return program;
}

/** A job id argument: refused before anything starts when it is not one. */
function requireJobId(command: Command, jobId: string): void {
  if (!isJobId(jobId)) command.error(`error: '${jobId}' is not a job id (24 hex digits)`, { exitCode: USAGE_EXIT_CODE, code: "stt.invalidArgument" });
}

function costDayArgument(value: string): string {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : undefined;
  if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) throw new InvalidArgumentError("Expected a day as YYYY-MM-DD.");
  return value;
}

function jobStatus(value: string): JobStatus {
  const status = value.toUpperCase();
  if (!(JOB_STATUSES as readonly string[]).includes(status)) throw new InvalidArgumentError(`Expected one of ${JOB_STATUSES.join(", ")}.`);
  return status as JobStatus;
}

function listLimit(value: string): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > MAX_JOBS_LISTED) {
    throw new InvalidArgumentError(`Expected a whole number from 1 to ${MAX_JOBS_LISTED}.`);
  }
  return Number(value);
}

/** The most jobs `stt jobs` lists at once. */
export const MAX_JOBS_LISTED = 1000;

/** `stt jobs`, `stt cancel`, `stt rerun`, `stt delete`: what Amazon Transcribe's List/Stop/Start/Delete calls do. */
function addJobControl(program: Command, commands: CliCommands, exitCode: (code: number) => void): void {
  program
    .command("jobs")
    .summary("list jobs, newest first")
    .description("List jobs newest first: id, status, created, duration, speakers, source key, and the reason of a failure.")
    .addOption(new Option("--status <status>", `only jobs in this state: ${JOB_STATUSES.join(", ")}`).argParser(jobStatus))
    .addOption(new Option("--limit <n>", `at most this many, 1..${MAX_JOBS_LISTED}`).argParser(listLimit).default(20))
    .option("--json", "print the job records as a JSON array")
    .action(async (opts: { status?: JobStatus; limit: number; json?: boolean }) =>
      exitCode(await commands.jobs({ status: opts.status, limit: opts.limit, json: opts.json === true })),
    );

  program
    .command("cancel")
    .summary("cancel a job that is still running")
    .description(
      "Cancel a CHUNKING, QUEUED or RUNNING job: nothing more of it is sent to the provider, it ends CANCELLED (with a " +
        "notification) and lists no transcript. Cancelling a cancelled job is fine; exit 1 if the job is unknown or " +
        "already COMPLETED or FAILED.",
    )
    .argument("<jobId>", "the job id `stt transcribe` printed")
    .action(async (jobId: string, _opts: unknown, command: Command) => {
      requireJobId(command, jobId);
      exitCode(await commands.cancel(jobId));
    });

  const rerun = program
    .command("rerun")
    .summary("run a job again on the same recording, with other options")
    .description(
      "Start a new job from the same source object (the same version) with the old job's options, changed by the " +
        "flags given; prints the new job's id. The same rerun asked twice is the same job. Exit 1 if the job is " +
        "unknown, its recording is gone or was replaced, or the options do not go together.",
    )
    .argument("<jobId>", "the job to run again")
    .option("--language <code>", "ISO-639-1 code, or auto")
    .option("--language-options <codes>", "with auto: the languages segments may be heard in (en,de,fr)")
    .option("--prompt <text>", "text that guides the model (names, terms)")
    .option("--temperature <t>", "sampling temperature, 0..1")
    .option("--model <name>", "provider model")
    .option("--translate", "translate to English")
    .option("--transcribe", "transcribe (undo --translate of the old job)")
    .option("--diarize", "speaker labels on")
    .option("--no-diarize", "speaker labels off")
    .option("--min-speakers <n>", "at least this many speakers, 1..20")
    .option("--max-speakers <n>", "at most this many speakers, 1..20, at least --min-speakers")
    .option("--chunk-seconds <s>", "segment length, 20..1200, or auto")
    .option("--overlap-seconds <s>", "overlap between segments, 0..30, less than the segment")
    .option("--speakers <names>", "name these enrolled voices where they speak: alice,bob or *");
  rerun.action(async (jobId: string, opts: RerunOpts, command: Command) => {
    requireJobId(command, jobId);
    const overrides = rerunOverrides(opts);
    if (opts.translate && opts.transcribe) command.error("error: give --translate or --transcribe, not both", { exitCode: USAGE_EXIT_CODE, code: "stt.invalidOption" });
    // Each flag on its own, by the chunker's rules; how they go with the old job's options is checked with it.
    const problem = optionProblem(transcribeFlags({ ...opts, format: "text", diarize: opts.diarize !== false }), process.env.STT_MODEL || DEFAULTS.model);
    if (problem) command.error(`error: ${problem}`, { exitCode: USAGE_EXIT_CODE, code: "stt.invalidOption" });
    exitCode(await commands.rerun(jobId, overrides));
  });

  program
    .command("delete")
    .summary("delete a job: its transcript, work files, utterances and record")
    .description(
      "Delete a job and everything it left: output files, work objects, utterance items, then its record; a running " +
        "job is cancelled first. Safe to repeat. Exit 1 if there was nothing to delete.",
    )
    .argument("<jobId>", "the job id")
    .action(async (jobId: string, _opts: unknown, command: Command) => {
      requireJobId(command, jobId);
      exitCode(await commands.delete(jobId));
    });
}

interface RerunOpts {
  language?: string;
  languageOptions?: string;
  prompt?: string;
  temperature?: string;
  model?: string;
  translate?: boolean;
  transcribe?: boolean;
  diarize?: boolean;
  minSpeakers?: string;
  maxSpeakers?: string;
  chunkSeconds?: string;
  overlapSeconds?: string;
  speakers?: string;
}

/** The rerun's flags as upload metadata: only what was given, so everything else stays as the old job had it. */
export function rerunOverrides(opts: RerunOpts): Record<string, string> {
  const metadata = flagsToMetadata(transcribeFlags({ ...opts, format: "text", diarize: opts.diarize !== false }));
  if (opts.diarize === true) metadata.diarize = "true";
  if (opts.transcribe) metadata.task = "transcribe";
  return metadata;
}

interface TranscribeOpts {
  format: OutputFormat;
  language?: string;
  languageOptions?: string;
  prompt?: string;
  temperature?: string;
  model?: string;
  translate?: boolean;
  diarize: boolean;
  minSpeakers?: string;
  maxSpeakers?: string;
  chunkSeconds?: string;
  overlapSeconds?: string;
  speakers?: string;
  maxCost?: string;
  vocabulary?: string;
  filter?: string;
  filterMethod?: string;
  redact?: string;
  channels?: string;
}

function transcribeFlags(opts: TranscribeOpts): TranscribeFlags {
  const flags: TranscribeFlags = {
    language: opts.language,
    "language-options": opts.languageOptions,
    prompt: opts.prompt,
    temperature: opts.temperature,
    model: opts.model,
    translate: opts.translate,
    "no-diarize": opts.diarize === false ? true : undefined,
    "min-speakers": opts.minSpeakers,
    "max-speakers": opts.maxSpeakers,
    "chunk-seconds": opts.chunkSeconds,
    "overlap-seconds": opts.overlapSeconds,
    speakers: opts.speakers,
    "max-cost": opts.maxCost,
    vocabulary: opts.vocabulary,
    filter: opts.filter,
    "filter-method": opts.filterMethod,
    redact: opts.redact,
    channels: opts.channels,
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
