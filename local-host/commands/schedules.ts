import type { Command } from 'commander';
import { listSchedules } from '#shared/schedules/listing.ts';
import { schedulesOf } from '#shared/schedules/workflow-schedule.ts';
import { formatDuration, table } from '../format.ts';
import { type CliIO, EXIT } from '../io.ts';
import { type ConfigOption, commandContext, loadForCommand } from './common.ts';

interface SchedulesOptions extends ConfigOption {
  json?: boolean;
}

/** SPEC §12: what GET /api/schedules answers, read from the config and the database directly (no host needed). */
async function schedulesCommand(io: CliIO, options: SchedulesOptions): Promise<number> {
  const loaded = loadForCommand(io, options.config);
  if (schedulesOf(loaded.config).length === 0) {
    io.stdout.write(
      options.json
        ? '[]\n'
        : `No workflow has a schedule: add \`schedule: ["0 2 * * *"]\` to one in ${loaded.source ?? '.aegis.yaml'}.\n`,
    );
    return EXIT.ok;
  }
  const context = commandContext(io, loaded);
  try {
    const now = Date.now();
    const listed = await listSchedules(context.config, (await context.stores()).db, now);
    if (options.json) {
      io.stdout.write(`${JSON.stringify(listed, null, 2)}\n`);
      return EXIT.ok;
    }
    const rows = listed.map((s) => [
      s.workflow,
      s.cron,
      s.timezone,
      s.next_run_at === null
        ? 'never'
        : `${s.next_run_at} (in ${formatDuration(Date.parse(s.next_run_at) - now)})`,
      s.last_run_id ?? '-',
    ]);
    io.stdout.write(`${table(['WORKFLOW', 'CRON', 'TIMEZONE', 'NEXT RUN', 'LAST RUN'], rows)}\n`);
    return EXIT.ok;
  } finally {
    await context.close();
  }
}

export function registerSchedules(
  program: Command,
  io: CliIO,
  setExit: (code: number) => void,
): void {
  program
    .command('schedules')
    .description(
      "every workflow's schedule: each cron expression, its next tick and the run of its last one",
    )
    .option('--json', 'print [{workflow, cron, timezone, next_run_at, last_run_id}] as JSON')
    .option(
      '--config <file>',
      'configuration file (default: $AEGIS_CONFIG, then the nearest .aegis.yaml)',
    )
    .action(async (options: SchedulesOptions) => setExit(await schedulesCommand(io, options)));
}
