import type { Row } from './report.ts';
import { median, QUICK, round, startAegis, stopProcess } from './support.ts';

const STARTS = QUICK ? 3 : 5;

/** From spawning `node dist/aegis.mjs serve` to its first 200 on `/health` (polled every 5 ms). */
export async function benchStartup(config: string): Promise<Row[]> {
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const host = await startAegis({ config, env: { LOG_LEVEL: undefined } });
    times.push(host.readyMs);
    await stopProcess(host.child);
  }
  return [
    {
      section: 'startup',
      figure: 'process start → first 200 on `/health`',
      measured: `${round(median(times), 0)} ms`,
      note: `median of ${STARTS}; history file already there after the first`,
      detail: { times },
    },
  ];
}
