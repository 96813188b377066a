/**
 * The pages' reads from the server that serves them: same origin, relative
 * paths, no credentials (a person's browser reads what anyone may read;
 * README "Privacy"). A refusal keeps the server's own `{ error }` words, so
 * a page can show them instead of failing.
 */

export type Answer<T> =
  | { readonly ok: true; readonly status: number; readonly body: T }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

async function read<T>(path: string, parse: (res: Response) => Promise<T>): Promise<Answer<T>> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: "omit", headers: { Accept: "application/json, text/plain" } });
  } catch (e) {
    return { ok: false, status: 0, code: "UNREACHABLE", message: `the server could not be reached (${(e as Error).message})` };
  }
  if (res.ok) return { ok: true, status: res.status, body: await parse(res) };
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `status ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === "string") code = body.error.code;
    if (typeof body.error?.message === "string") message = body.error.message;
  } catch {
    // Not Cairn's error body (a proxy's page, say): the status says enough.
  }
  return { ok: false, status: res.status, code, message };
}

export function getJson<T>(path: string): Promise<Answer<T>> {
  return read(path, (res) => res.json() as Promise<T>);
}

export function getText(path: string): Promise<Answer<string>> {
  return read(path, (res) => res.text());
}
