/**
 * A small Prometheus registry: counters, gauges and histograms with labels,
 * rendered in the text exposition format (version 0.0.4). Kept in-process and
 * dependency-free because the Worker and Node share it and only a handful of
 * series exist.
 */

type Labels = Readonly<Record<string, string>>;

interface Series {
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly values: Map<string, number>;
  readonly buckets?: readonly number[];
}

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics {
  private readonly series = new Map<string, Series>();
  /** Series rendered elsewhere (the Node seal thread's registry), shown in place of ours of the same name. */
  private external = "";

  /** Adopts another registry's rendering; its series replace same-named ones of this registry. */
  setExternal(text: string): void {
    this.external = text;
  }

  counter(name: string, help: string): (labels?: Labels, by?: number) => void {
    const s = this.define(name, help, "counter");
    return (labels = {}, by = 1) => {
      const key = labelKey(labels);
      s.values.set(key, (s.values.get(key) ?? 0) + by);
    };
  }

  gauge(name: string, help: string): (value: number, labels?: Labels) => void {
    const s = this.define(name, help, "gauge");
    return (value, labels = {}) => void s.values.set(labelKey(labels), value);
  }

  histogram(name: string, help: string, buckets = DEFAULT_BUCKETS): (seconds: number, labels?: Labels) => void {
    const s = this.define(name, help, "histogram", buckets);
    return (value, labels = {}) => {
      for (const le of [...buckets, Infinity]) {
        if (value <= le) bump(s.values, labelKey({ ...labels, le: le === Infinity ? "+Inf" : String(le) }), "_bucket");
      }
      bump(s.values, labelKey(labels), "_sum", value);
      bump(s.values, labelKey(labels), "_count");
    };
  }

  /** The registry in Prometheus text format. */
  render(): string {
    const out: string[] = [];
    const adopted = new Set([...this.external.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!));
    for (const [name, s] of this.series) {
      if (adopted.has(name)) continue;
      out.push(`# HELP ${name} ${s.help}`, `# TYPE ${name} ${s.type}`);
      for (const [key, value] of s.values) {
        const [suffix, labels] = key.startsWith("_") ? splitSuffix(key) : ["", key];
        out.push(`${name}${suffix}${labels} ${value}`);
      }
    }
    return out.join("\n") + "\n" + this.external;
  }

  private define(name: string, help: string, type: Series["type"], buckets?: readonly number[]): Series {
    let s = this.series.get(name);
    if (s === undefined) {
      s = { help, type, values: new Map(), ...(buckets ? { buckets } : {}) };
      this.series.set(name, s);
    }
    return s;
  }
}

function labelKey(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return "{" + entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",") + "}";
}

/** Histogram parts are stored under "_bucket{...}", "_sum{...}", "_count{...}" keys. */
function bump(values: Map<string, number>, labels: string, suffix: string, by = 1): void {
  const key = suffix + labels;
  values.set(key, (values.get(key) ?? 0) + by);
}

function splitSuffix(key: string): [string, string] {
  const brace = key.indexOf("{");
  return brace < 0 ? [key, ""] : [key.slice(0, brace), key.slice(brace)];
}
