/**
 * The verify page's service worker (/verify-sw.js, scope /verify): it keeps
 * the page, its script, stylesheet and icon, so that /verify opens and
 * verifies with the network gone, once it has been opened online. It touches
 * nothing else: the API (/v1/…) and every other URL go to the network as if
 * it were not there, and it never sees a document, which the page reads
 * from disk and sends nowhere.
 *
 * The page itself is network-first (a new release is picked up whenever
 * the server answers); the assets are content-named, so the cache's copy
 * is always the right one. Each release names its own cache and drops the
 * others.
 */

/** The paths to keep, and a name for this release of them, put in by scripts/pages.ts at build time. */
declare const __PRECACHE__: readonly string[];
declare const __RELEASE__: string;

// The service-worker globals, as far as this file uses them (the DOM typings
// the project compiles against describe a window, not a worker).
interface ExtendableEvent extends Event {
  waitUntil(work: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface WorkerScope {
  addEventListener(type: "install" | "activate", listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  readonly location: Location;
}

const scope = self as unknown as WorkerScope;
const PREFIX = "cairn-verify-";
const CACHE = `${PREFIX}${__RELEASE__}`;
const KEPT = new Set(__PRECACHE__);

scope.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([...KEPT]))
      .then(() => scope.skipWaiting()),
  );
});

scope.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => scope.clients.claim()),
  );
});

async function fromCache(path: string): Promise<Response> {
  return (await caches.match(path, { cacheName: CACHE })) ?? Response.error();
}

scope.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== scope.location.origin || !KEPT.has(url.pathname)) return;
  if (url.pathname.startsWith("/assets/")) {
    event.respondWith(fromCache(url.pathname).then((kept) => (kept.ok ? kept : fetch(event.request))));
    return;
  }
  event.respondWith(
    fetch(event.request).then(
      (fresh) => {
        if (fresh.ok) {
          const copy = fresh.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(url.pathname, copy)));
        }
        return fresh;
      },
      () => fromCache(url.pathname),
    ),
  );
});
