import { spawnSync } from 'node:child_process';
import parsePrometheusTextFormat, {
  type ParsedFamily,
  type ParsedSample,
} from 'parse-prometheus-text-format';

/** A scrape, parsed by a real parser of the text format (not a regex of ours). */
export interface Scrape {
  text: string;
  /** Each family's declared type, by name. */
  types: Map<string, ParsedFamily['type']>;
  /** The samples by series name; a histogram's as its `_bucket`, `_sum` and `_count` series. */
  families: Map<string, ParsedFamily>;
}

/**
 * parse-prometheus-text-format folds a histogram with labels into one
 * sample and drops the labels, so the samples are read with histograms
 * declared untyped: each of their series is then a family of its own, labels kept.
 */
export function parseExposition(text: string): Scrape {
  const types = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f.type]));
  const untyped = text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped');
  const families = new Map<string, ParsedFamily>();
  // A histogram's series alternate (one label set's buckets, sum and count, then the next's): gather them by name.
  for (const family of parsePrometheusTextFormat(untyped)) {
    const seen = families.get(family.name);
    if (seen) seen.metrics.push(...family.metrics);
    else families.set(family.name, family);
  }
  return { text, types, families };
}

/** GET /metrics, parsed; fails unless it is a 200 in the text format. */
export async function scrape(
  baseUrl: string,
  headers: Record<string, string> = {},
): Promise<Scrape> {
  const response = await fetch(`${baseUrl}/metrics`, { headers });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /metrics: HTTP ${response.status}: ${text}`);
  if (!response.headers.get('content-type')?.startsWith('text/plain'))
    throw new Error(`GET /metrics: content-type ${response.headers.get('content-type')}`);
  return parseExposition(text);
}

/** The sample of `name` whose labels include `labels`; undefined when there is none. */
export function sample(
  { families }: Scrape,
  name: string,
  labels: Record<string, string> = {},
): ParsedSample | undefined {
  return families
    .get(name)
    ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

/** A counter's or gauge's value (0 when the series does not exist yet). */
export function seriesValue(
  scraped: Scrape,
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = sample(scraped, name, labels);
  return found?.value === undefined ? 0 : Number(found.value);
}

/** Whether Debian's `promtool` is installed (`.ci/run` installs package `prometheus` when it is not). */
export function hasPromtool(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** `promtool check metrics` over the text: its exit status and what it found. */
export function promtoolCheck(text: string): { status: number | null; problems: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: run.status, problems: `${run.stdout}${run.stderr}`.trim() };
}
