/** Unix seconds as people read them, with the exact ISO 8601 time beside the words. */

const words = new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeStyle: "long", timeZone: "UTC" });

/** "2026-05-14T10:32:05Z": seconds, UTC, no fraction (the formats count whole seconds). */
export function isoTime(unix: number): string {
  return new Date(unix * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** "14 May 2026 at 10:32:05 UTC". */
export function timeInWords(unix: number): string {
  return words.format(new Date(unix * 1000));
}

/** "3 minutes ago", "in 2 seconds": how far `unix` is from `now`. */
export function relativeTime(unix: number, now: number): string {
  const delta = unix - now;
  const abs = Math.abs(delta);
  const [amount, unit] =
    abs < 90 ? [abs, "second"] : abs < 90 * 60 ? [Math.round(abs / 60), "minute"] : abs < 36 * 3600 ? [Math.round(abs / 3600), "hour"] : [Math.round(abs / 86400), "day"];
  const phrase = `${amount} ${unit}${amount === 1 ? "" : "s"}`;
  return delta > 0 ? `in ${phrase}` : `${phrase} ago`;
}
