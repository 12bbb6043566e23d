import type { Writable } from 'node:stream';
import type { Environment } from '#shared/env.ts';

export const SYMBOL = { passed: '✓', failed: '✗', skipped: '⊘', warning: '!' } as const;

/** `850 ms`, `1.2 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export interface Paint {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

/** ANSI colours on a terminal, plain text elsewhere or with NO_COLOR (https://no-color.org). */
export function paintFor(stream: Writable, env: Environment): Paint {
  const on = (stream as { isTTY?: boolean }).isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
  const wrap = (code: number, reset: number) => (text: string) =>
    on ? `\u001b[${code}m${text}\u001b[${reset}m` : text;
  return {
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

/** Left-aligned columns, two spaces apart. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
