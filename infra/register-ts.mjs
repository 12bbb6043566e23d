// Lets Node 20 run the project's TypeScript directly (the bench, the template generator, the Lambda
// build): `node --import ./infra/register-ts.mjs bench/run.ts`.
// Every `.ts` module is transpiled on load with esbuild (types stripped, nothing bundled), so
// `#shared/*` imports and `import … with { type: 'json' }` resolve as they do for the sources.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
