// Writes the Events of every function in infra/template.yaml from the registry (functions/index.ts),
// so that a new route cannot be forgotten by the deploy.
//   npm run template          rewrites the file
//   npm run template -- --check   exits 1 when the committed file is not what it would write (CI)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTIONS } from '#functions/index.ts';
import { renderTemplate } from './template-events.ts';

const path = join(import.meta.dirname, 'template.yaml');
const current = readFileSync(path, 'utf8');
let rendered: string;
try {
  rendered = renderTemplate(current, Object.values(FUNCTIONS));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
if (process.argv.includes('--check')) {
  if (rendered !== current) {
    process.stderr.write(
      'infra/template.yaml is stale: its Events differ from the routes of functions/index.ts. Run `npm run template` and commit the result.\n',
    );
    process.exit(1);
  }
  process.stdout.write('infra/template.yaml: the Events match the registry\n');
} else if (rendered !== current) {
  writeFileSync(path, rendered);
  process.stdout.write('infra/template.yaml: Events rewritten from the registry\n');
} else {
  process.stdout.write('infra/template.yaml: already current\n');
}
