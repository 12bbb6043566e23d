import { cpus, loadavg, release, totalmem } from 'node:os';
import { commandOutput } from './support.ts';

/** A target: the measured value must stay at most (`max`) or at least (`min`) this limit. */
export type Target = { max: number } | { min: number };

/** One line of the table. */
export interface Row {
  section: string;
  figure: string;
  /** The figure as printed, with its unit. */
  measured: string;
  /** The number compared with the target (same unit as the target); absent for print-only figures. */
  value?: number;
  target?: Target;
  /** How the target is printed, e.g. `≤ 10 ms`, `≥ 0.50 × bare`. */
  targetText?: string;
  /** Free text: how it was measured, or why it was not. */
  note?: string;
  /** Everything measured for this figure, for the JSON file. */
  detail?: unknown;
}

export interface EvaluatedRow extends Row {
  /** measured ÷ limit: ≤ 1 meets a `max` target, ≥ 1 a `min` target. */
  ratio: number | null;
  status: 'ok' | 'MISSED' | 'info' | 'n/a';
}

export function evaluate(row: Row): EvaluatedRow {
  if (row.target === undefined || row.value === undefined)
    return { ...row, ratio: null, status: row.value === undefined && row.target ? 'n/a' : 'info' };
  if (!Number.isFinite(row.value)) return { ...row, ratio: null, status: 'n/a' };
  const limit = 'max' in row.target ? row.target.max : row.target.min;
  const ratio = row.value / limit;
  const ok = 'max' in row.target ? row.value <= limit : row.value >= limit;
  return { ...row, ratio, status: ok ? 'ok' : 'MISSED' };
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  /** 1-minute load average when the bench started and ended: other work on the machine skews figures. */
  loadAverage: { start: number; end?: number };
  commit: string | null;
  dirty: boolean;
}

export function describeMachine(): Machine {
  const cpu = cpus();
  const status = commandOutput('git', ['status', '--porcelain', '--untracked-files=no']);
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${process.platform} ${release()}`,
    loadAverage: { start: Math.round((loadavg()[0] ?? 0) * 100) / 100 },
    commit: commandOutput('git', ['rev-parse', '--short', 'HEAD']),
    dirty: status !== null && status !== '',
  };
}

export function machineLine(m: Machine): string {
  const load = m.loadAverage.end === undefined ? '' : ` → ${m.loadAverage.end}`;
  return `${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}; load average ${m.loadAverage.start}${load}; commit ${m.commit ?? '?'}${m.dirty ? ' (uncommitted changes)' : ''}`;
}

function formatRatio(row: EvaluatedRow): string {
  return row.ratio === null ? '' : `${row.ratio.toFixed(2)}×`;
}

function formatStatus(row: EvaluatedRow): string {
  return row.status === 'info' ? '' : row.status === 'MISSED' ? '**MISSED**' : row.status;
}

/** A Markdown table: pasteable into the README, readable in a terminal. */
export function markdownTable(rows: readonly EvaluatedRow[]): string {
  const header = ['figure', 'measured', 'target', 'ratio', 'status'];
  const lines = rows.map((row) => [
    row.figure,
    row.measured,
    row.targetText ?? '',
    formatRatio(row),
    formatStatus(row),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}
