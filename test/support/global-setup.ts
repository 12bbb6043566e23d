import { execFileSync } from 'node:child_process';

/** Builds dist/aegis.mjs once, so CLI process tests run what `npx aegis` runs. */
export default function setup(): void {
  execFileSync(process.execPath, ['infra/build.mjs', 'cli'], { stdio: 'inherit' });
}
