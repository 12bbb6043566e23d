import { runCli } from './cli.ts';
import { processIO } from './io.ts';

process.exitCode = await runCli(process.argv.slice(2), processIO());
