/**
 * `npm run db:migrate -- <libSQL URL>`: applies migrations/ to a remote
 * libSQL database (Turso, sqld) ahead of use by the Worker, which cannot read
 * migration files itself. The same drizzle migrator the Node runtime runs on
 * open; the token comes from LIBSQL_AUTH_TOKEN (kept out of shell history and
 * process lists). D1 databases are migrated with
 * `wrangler d1 migrations apply <database> --remote` instead.
 */
import { openLibsqlStore } from "../src/store/libsql.js";

async function main(args: readonly string[]): Promise<void> {
  const [url] = args;
  if (url === undefined || args.length !== 1 || !/^(libsql|https?|wss?):\/\//.test(url)) {
    throw new Error("usage: npm run db:migrate -- <libsql://… | https://…>   (token in LIBSQL_AUTH_TOKEN)");
  }
  const authToken = process.env.LIBSQL_AUTH_TOKEN;
  const store = await openLibsqlStore({ url, ...(authToken ? { authToken } : {}) });
  const head = await store.head();
  store.close();
  console.error(`db:migrate: ${url} is migrated (${head.size} blocks)`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`db:migrate: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
