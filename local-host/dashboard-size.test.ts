import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_DIR } from './dashboard-dir.ts';

/** The page's own files may total this much, uncompressed (100 KB as 100,000 bytes). */
const BUDGET_BYTES = 100_000;

/** Every file under `dir`, recursively, with its size in bytes. */
function filesIn(dir: string): { path: string; bytes: number }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesIn(path) : [{ path, bytes: statSync(path).size }];
  });
}

describe('the dashboard', () => {
  it(`serves under ${BUDGET_BYTES} bytes of its own files`, () => {
    const files = filesIn(DASHBOARD_DIR);
    const total = files.reduce((sum, file) => sum + file.bytes, 0);
    const listing = files
      .sort((a, b) => b.bytes - a.bytes)
      .map((file) => `${file.bytes}\t${relative(DASHBOARD_DIR, file.path)}`)
      .join('\n');
    expect(files.length).toBeGreaterThan(0);
    expect(total, `the dashboard's files total ${total} bytes:\n${listing}`).toBeLessThan(
      BUDGET_BYTES,
    );
  });
});
