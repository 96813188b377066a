/**
 * Progress on stderr for long runs (many anchors, a long audit): a bar
 * redrawn in place when stderr is a terminal, otherwise a plain line at every
 * tenth of the way (at most one a second) and one at the end, so logs and CI
 * output stay readable.
 */
import type { Io } from "./common.js";

const REDRAW_MS = 100;
const BAR_WIDTH = 24;
/** Without a terminal: at most one progress line a second. */
const LINE_MS = 1000;

export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastTenth = 0;
  private lastLine = Date.now();
  private drawn = false;
  private finished = false;

  constructor(
    private readonly io: Io,
    private readonly label: string,
    private readonly total: number,
    /** Off: every call is a no-op (few items are reported line by line instead). */
    private readonly enabled = true,
  ) {}

  tick(n = 1): void {
    if (this.finished) return;
    this.done = Math.min(this.total, this.done + n);
    if (!this.enabled) return;
    if (this.io.tty) {
      const now = Date.now();
      if (now - this.lastDraw >= REDRAW_MS || this.done === this.total) this.draw(now);
    } else {
      // A line per tenth of the way, at most one a second; the last one comes from finish().
      const tenth = Math.floor((this.done * 10) / Math.max(1, this.total));
      const now = Date.now();
      if (tenth > this.lastTenth && tenth < 10 && now - this.lastLine >= LINE_MS) {
        this.lastTenth = tenth;
        this.lastLine = now;
        this.io.err(`${this.label}: ${this.status()}`);
      }
    }
  }

  /** Prints a line to stdout without tearing the bar. */
  out(text: string): void {
    if (this.enabled && this.io.tty && this.drawn) {
      // Clear the bar; the next tick redraws it below the line.
      this.io.tty.write("\r\x1b[K");
      this.drawn = false;
      this.lastDraw = 0;
      this.io.out(text);
    } else {
      this.io.out(text);
    }
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.enabled) return;
    if (this.io.tty) {
      this.draw(Date.now());
      this.io.tty.write("\n");
    } else {
      this.io.err(`${this.label}: ${this.status()}`);
    }
  }

  private status(): string {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    return `${this.done}/${this.total} (${rate >= 100 ? Math.round(rate) : rate.toFixed(1)}/s, ${seconds.toFixed(1)} s)`;
  }

  private draw(now: number): void {
    const tty = this.io.tty!;
    this.lastDraw = now;
    const filled = Math.round((this.done / Math.max(1, this.total)) * BAR_WIDTH);
    const bar = `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`;
    const line = `${this.label} ${bar} ${this.status()}`;
    tty.write(`\r\x1b[K${line.slice(0, Math.max(10, tty.columns - 1))}`);
    this.drawn = true;
  }
}
