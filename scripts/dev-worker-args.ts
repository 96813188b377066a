/**
 * The `wrangler dev` command line of `npm run dev:worker`: the script's
 * defaults (loopback, port 8787, the cron reachable at /__scheduled) with
 * whatever the user passed after `--` winning over them, in either
 * `--flag value` or `--flag=value` form.
 */
export interface DevArgs {
  readonly args: string[];
  /** Where the script itself reaches the Worker once it runs. */
  readonly base: string;
}

const DEFAULTS: ReadonlyArray<readonly [flag: string, value: string]> = [
  ["--ip", "127.0.0.1"],
  ["--port", "8787"],
];

export function wranglerDevArgs(extra: readonly string[]): DevArgs {
  const given = (flag: string): string | undefined => {
    let value: string | undefined;
    extra.forEach((a, i) => {
      if (a === flag) value = extra[i + 1];
      else if (a.startsWith(`${flag}=`)) value = a.slice(flag.length + 1);
    });
    return value;
  };
  const defaults = DEFAULTS.filter(([flag]) => given(flag) === undefined).flat();
  const ip = given("--ip") ?? "127.0.0.1";
  const port = given("--port") ?? "8787";
  // A wildcard listen address is reached on loopback.
  const host = ip === "0.0.0.0" || ip === "*" ? "127.0.0.1" : ip === "::" ? "[::1]" : ip.includes(":") ? `[${ip}]` : ip;
  return { args: ["dev", "--local", ...defaults, "--test-scheduled", ...extra], base: `http://${host}:${port}` };
}
