import { z } from "zod";

/**
 * Channel identification (`channels=agent,caller`): a multi-channel call is transcribed per channel, each
 * channel a "lane" of its own segments, and the lanes' words are merged by time with the channel's name as
 * the speaker's (merge-lanes.ts). Without the key, a stereo file is mixed down to mono as before.
 */

/** A channel's name: the voice-name rule (letters, digits and `-_.`, starting with a letter or digit). */
export const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;
/** Named channels a job may ask for: at least two (one channel is a mono file), at most eight lanes. */
export const CHANNEL_LIMITS = { min: 2, max: 8 } as const;

/** `agent,caller`: 2..8 names, distinct (in any case), each a valid name; channel n is the n-th name. */
export const channelsText = z.string().transform((raw, ctx): string[] => {
  const names = raw.split(",").map((name) => name.trim());
  const bad = names.find((name) => !CHANNEL_NAME.test(name));
  if (bad !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: `channels '${raw.slice(0, 80)}': '${bad.slice(0, 40)}' is not a channel name (1-40 letters, digits, '-', '_' or '.', starting with a letter or digit); use one name per channel, separated by commas`,
    });
    return z.NEVER;
  }
  if (names.length < CHANNEL_LIMITS.min || names.length > CHANNEL_LIMITS.max) {
    ctx.addIssue({
      code: "custom",
      message: `channels: name ${CHANNEL_LIMITS.min} to ${CHANNEL_LIMITS.max} channels, one per channel of the recording, not ${names.length}`,
    });
    return z.NEVER;
  }
  const seen = new Set<string>();
  const twice = names.find((name) => (seen.has(name.toLowerCase()) ? true : (seen.add(name.toLowerCase()), false)));
  if (twice !== undefined) {
    ctx.addIssue({ code: "custom", message: `channels: '${twice}' is named twice; each channel needs a name of its own` });
    return z.NEVER;
  }
  return names;
});

/**
 * The chunker's check once ffprobe has counted the channels: the names must match them one for one. A file
 * with one channel cannot be split however many names are given.
 */
export function channelCountProblem(names: readonly string[], fileChannels: number): string | undefined {
  if (fileChannels === names.length) return undefined;
  const has = `the recording has ${fileChannels} channel${fileChannels === 1 ? "" : "s"}`;
  if (fileChannels < 2) return `channels: ${has}; channel identification needs a stereo (or multi-channel) file`;
  return `channels: ${has} but ${names.length} names were given (${names.join(",")}); give one name per channel`;
}
