/**
 * `cairn keygen NAME`: a new Ed25519 key pair from a random seed. The signer
 * key (secret) goes to a 0600 file; the verifier key, which the operator
 * registers (client, type 0x01) or puts in the trust document (member
 * cosigner, type 0x04), goes to stdout alone so it can be piped.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CLIENT_NAME_RULE, isPlainClientName } from "../../core/client-record.js";
import { isValidKeyName, generateKeyPair, KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519 } from "../../core/keys.js";
import { CliError, dataDir, display, EXIT, serverUrl, usageError, type Io } from "./common.js";

export const usage = `Usage: cairn keygen NAME [--out FILE] [--cosigner] [--force]

Makes a new Ed25519 key pair named NAME (a C2SP key name: no spaces, no '+';
a domain-like name such as app.example.org is a good choice).

  --out FILE    where to write the signer key (default ./NAME.key, with
                characters other than letters, digits, '.', '_' and '-'
                replaced by '-'); written with mode 0600
  --cosigner    make a consortium member's cosigner key (cosignature/v1,
                type 0x04) instead of a client key (type 0x01)
  --force       overwrite FILE if it exists

The verifier key is printed on stdout; instructions on stderr.`;

export async function keygen(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { out: { type: "string", short: "o" }, cosigner: { type: "boolean" }, force: { type: "boolean" } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw usageError("keygen takes one NAME", "keygen");
  const name = positionals[0]!;
  if (!isValidKeyName(name)) throw usageError(`${JSON.stringify(name)} is not a key name: it must be non-empty, without spaces, '+' or control characters`, "keygen");

  if (!values.cosigner && !isPlainClientName(name)) throw usageError(`${JSON.stringify(name)} cannot name a client: use ${CLIENT_NAME_RULE}, so that no one can register a look-alike of it`, "keygen");
  const type = values.cosigner ? KEY_TYPE_COSIGNATURE_V1 : KEY_TYPE_ED25519;
  const { signerKey, verifierKey } = generateKeyPair(name, randomBytes(32), type);
  const file = resolve(io.cwd, values.out ?? `${sanitize(name)}.key`);
  try {
    await writeFile(file, signerKey + "\n", { mode: 0o600, flag: values.force ? "w" : "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CliError(`${display(io, file)} already exists; choose another --out FILE or pass --force to overwrite it`);
    }
    throw new CliError(`cannot write ${display(io, file)}: ${(e as Error).message}`);
  }

  io.out(verifierKey);
  const keyFile = display(io, file);
  if (type === KEY_TYPE_ED25519) {
    io.err(
      [
        `Wrote the signer key of client ${name} to ${keyFile} (mode 0600; keep it secret).`,
        "The verifier key above is public. The operator registers it (POST /v1/admin/clients), e.g.:",
        `  curl -X POST ${serverUrl(io, undefined)}/v1/admin/clients \\`,
        `    -H "Authorization: Bearer $(cat ${display(io, join(dataDir(io), "admin-token"))})" -H 'Content-Type: application/json' \\`,
        `    -d '{"key":"${verifierKey}"}'`,
        `Then anchor with: cairn anchor FILE --wait --key ${keyFile}   (or set CAIRN_CLIENT_KEY=${keyFile})`,
      ].join("\n"),
    );
  } else {
    io.err(
      [
        `Wrote the cosigner key of member ${name} to ${keyFile} (mode 0600; keep it secret).`,
        "The verifier key above (cosignature/v1) is public: it goes to the operator's CAIRN_MEMBERS",
        `({ "name": "${name}", "key": "<verifier key>", "witness": "<URL>" }) and so into the trust document; the signer key stays with the member's witness (\`cairn member\` makes its own on first run).`,
      ].join("\n"),
    );
  }
  return EXIT.OK;
}

/** A file name from a key name: keeps [A-Za-z0-9._-], never starts with '.', never empty. */
export function sanitize(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[.-]+/, "");
  return s === "" ? "key" : s;
}
