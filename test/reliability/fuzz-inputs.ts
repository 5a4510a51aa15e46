/**
 * Seeded bad bytes for the fuzz run: mutations of a real recording in each upload format (header byte flips,
 * length and rate fields overwritten, truncations, another format's header spliced on), and hostile payloads
 * that would make ffmpeg open something other than the uploaded object (a playlist or a concat list pointing
 * at a local listener or at a local file).
 */
import type { AudioFormat } from "../audio/write-audio.js";
import type { SeededRandom } from "../audio/seeded-random.js";

export type MutationKind = "header-flips" | "field-overwrite" | "truncation" | "foreign-header";
export const MUTATION_KINDS: readonly MutationKind[] = ["header-flips", "field-overwrite", "truncation", "foreign-header"];

export interface Mutant {
  bytes: Buffer;
  /** What was done, short enough for a report cell. */
  detail: string;
}

/** A field of a file's header: where it is and how wide. */
interface Field {
  name: string;
  offset: number;
  width: number;
}

export function mutate(kind: MutationKind, format: AudioFormat, original: Buffer, others: Map<AudioFormat, Buffer>, random: SeededRandom): Mutant {
  switch (kind) {
    case "header-flips": {
      const bytes = Buffer.from(original);
      const flips = random.int(1, 8);
      const at: number[] = [];
      for (let i = 0; i < flips; i++) {
        const offset = random.int(0, Math.min(1023, bytes.length - 1));
        bytes[offset] ^= 1 << random.int(0, 7);
        at.push(offset);
      }
      return { bytes, detail: `bits flipped at ${at.sort((a, b) => a - b).join(",")}` };
    }
    case "field-overwrite": {
      const fields = headerFields(format, original);
      const field = random.pick(fields);
      const value = random.pick(["zero", "ones", "random"] as const);
      const bytes = Buffer.from(original);
      for (let i = 0; i < field.width && field.offset + i < bytes.length; i++) {
        bytes[field.offset + i] = value === "zero" ? 0 : value === "ones" ? 0xff : random.int(0, 255);
      }
      return { bytes, detail: `${field.name} set to ${value}` };
    }
    case "truncation": {
      // Half the cuts inside the first 2 KB (headers), half anywhere.
      const cut = random.chance(0.5) ? random.int(1, Math.min(2048, original.length - 1)) : random.int(1, original.length - 1);
      return { bytes: Buffer.from(original.subarray(0, cut)), detail: `cut at ${cut} of ${original.length} bytes` };
    }
    case "foreign-header": {
      const donorFormat = random.pick([...others.keys()].filter((f) => f !== format));
      const donor = others.get(donorFormat)!;
      const length = random.int(12, Math.min(1024, donor.length, original.length));
      return { bytes: Buffer.concat([donor.subarray(0, length), original.subarray(length)]), detail: `first ${length} bytes from ${donorFormat}` };
    }
  }
}

/** The length, rate and count fields of each format's header, found in the file itself. */
function headerFields(format: AudioFormat, file: Buffer): Field[] {
  const fields: Field[] = [];
  const at = (name: string, marker: string | number[], delta: number, width: number) => {
    const offset = file.indexOf(typeof marker === "string" ? Buffer.from(marker, "latin1") : Buffer.from(marker));
    if (offset >= 0 && offset + delta + width <= file.length) fields.push({ name, offset: offset + delta, width });
  };
  switch (format) {
    case "wav":
      at("RIFF size", "RIFF", 4, 4);
      at("format tag", "fmt ", 8, 2);
      at("channels", "fmt ", 10, 2);
      at("sample rate", "fmt ", 12, 4);
      at("byte rate", "fmt ", 16, 4);
      at("block align", "fmt ", 20, 2);
      at("bits per sample", "fmt ", 22, 2);
      at("data size", "data", 4, 4);
      break;
    case "flac":
      // STREAMINFO follows "fLaC" and its 4-byte block header.
      at("metadata block length", "fLaC", 5, 3);
      at("min/max block size", "fLaC", 8, 4);
      at("min/max frame size", "fLaC", 12, 6);
      at("sample rate", "fLaC", 18, 3);
      at("channels/bits/total samples", "fLaC", 20, 6);
      break;
    case "mp3": {
      at("ID3 tag size", "ID3", 6, 4);
      const sync = findMp3Sync(file);
      if (sync >= 0) fields.push({ name: "first frame header", offset: sync + 1, width: 3 });
      at("Xing/Info frame count", "Info", 8, 4);
      break;
    }
    case "ogg":
    case "opus":
      at("page granule position", "OggS", 6, 8);
      at("page segment count", "OggS", 26, 1);
      at("page checksum", "OggS", 22, 4);
      at("Opus channels", "OpusHead", 9, 1);
      at("Opus pre-skip", "OpusHead", 10, 2);
      at("Opus input rate", "OpusHead", 12, 4);
      at("Vorbis channels", "\x01vorbis", 11, 1);
      at("Vorbis sample rate", "\x01vorbis", 12, 4);
      break;
    case "m4a":
      for (const atom of ["ftyp", "moov", "trak", "mdia", "stbl", "stsd", "stts", "stsz", "stco", "mdat"]) at(`'${atom}' size`, atom, -4, 4);
      at("mdhd timescale", "mdhd", 16, 4);
      at("mdhd duration", "mdhd", 20, 4);
      at("stsz sample count", "stsz", 12, 4);
      at("esds decoder config", "esds", 20, 8);
      break;
    case "webm":
      at("EBML header size", [0x1a, 0x45, 0xdf, 0xa3], 4, 1);
      at("Segment size", [0x18, 0x53, 0x80, 0x67], 4, 8);
      at("SamplingFrequency", [0xb5, 0x88], 2, 8);
      at("Channels", [0x9f, 0x81], 2, 1);
      at("CodecPrivate (OpusHead)", "OpusHead", 8, 8);
      at("Cluster size", [0x1f, 0x43, 0xb6, 0x75], 4, 8);
      break;
  }
  // Every format has at least its first 16 bytes.
  if (fields.length === 0) fields.push({ name: "first 16 bytes", offset: 0, width: 16 });
  return fields;
}

function findMp3Sync(file: Buffer): number {
  let start = 0;
  if (file.subarray(0, 3).toString("latin1") === "ID3") {
    start = 10 + ((file[6] << 21) | (file[7] << 14) | (file[8] << 7) | file[9]);
  }
  for (let i = start; i < Math.min(file.length - 1, start + 4096); i++) {
    if (file[i] === 0xff && (file[i + 1] & 0xe0) === 0xe0) return i;
  }
  return -1;
}

export interface HostileCase {
  name: string;
  /** The upload's key suffix: the extension decides whether the chunker accepts it at all. */
  extension: string;
  body: string;
  /** Stored with the object and sent back by S3 on the presigned GET: ffmpeg's HLS probe trusts an HLS type. */
  contentType?: string;
}

/**
 * Uploads whose content tells ffmpeg to open something else: the listener at `port` must never see a
 * connection, and `localFile` (an audio file on this machine) must never be read.
 */
export function hostileCases(port: number, localFile: string): HostileCase[] {
  const remote = `http://127.0.0.1:${port}`;
  const hls = (uri: string) => `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\n${uri}\n#EXT-X-ENDLIST\n`;
  return [
    { name: "HLS playlist, segment on the local listener", extension: ".mp3", body: hls(`${remote}/x.ts`) },
    { name: "HLS playlist, segment on the local listener (as .m4a)", extension: ".m4a", body: hls(`${remote}/as-m4a.ts`) },
    { name: "HLS playlist, segment on the local listener (as .wav)", extension: ".wav", body: hls(`${remote}/as-wav.ts`) },
    {
      name: "HLS master playlist, variant on the local listener",
      extension: ".mp3",
      body: `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000\n${remote}/v.m3u8\n`,
    },
    { name: "HLS playlist with an HLS Content-Type, segment on the local listener", extension: ".mp3", body: hls(`${remote}/typed.ts`), contentType: "application/vnd.apple.mpegurl" },
    { name: "HLS playlist with an HLS Content-Type, segment a local file (file: URL)", extension: ".mp3", body: hls(`file://${localFile}`), contentType: "audio/mpegurl" },
    { name: "HLS playlist, segment a local file (file: URL)", extension: ".mp3", body: hls(`file://${localFile}`) },
    { name: "HLS playlist, segment a local file (absolute path)", extension: ".mp3", body: hls(localFile) },
    { name: "ffconcat list, file on the local listener", extension: ".mp3", body: `ffconcat version 1.0\nfile '${remote}/y.wav'\n` },
    { name: "ffconcat list, local file (absolute path)", extension: ".wav", body: `ffconcat version 1.0\nfile '${localFile}'\n` },
    { name: "ffconcat list, local file (file: URL)", extension: ".wav", body: `ffconcat version 1.0\nfile 'file:${localFile}'\n` },
  ];
}
