import type { HandlerInput, HandlerOutput } from './handler-loop.ts';
import type { Row } from './report.ts';
import { median, QUICK, round, runTsChild } from './support.ts';

/** The `health` Lambda handler called in a loop with API Gateway v2 events, in a fresh process per log level. */
export async function benchHandler(config: string): Promise<Row[]> {
  const input: HandlerInput = { rounds: 5, roundMs: QUICK ? 200 : 500, warmupCalls: 2000 };
  const rows: Row[] = [];
  for (const [logLevel, label] of [
    [undefined, 'default INFO log'],
    ['WARN', 'LOG_LEVEL=WARN'],
  ] as const) {
    const out = await runTsChild<HandlerOutput>('handler-loop.ts', input, {
      env: { LOG_LEVEL: logLevel, AEGIS_CONFIG: config },
    });
    const us = round(median(out.roundsUs), 1);
    rows.push({
      section: 'handler',
      figure: `\`health\` handler called directly (API GW v2 event), ${label}`,
      measured: `${us} µs per call (first call ${round(out.firstCallMs, 1)} ms)`,
      note: `in-process loop, median of ${out.roundsUs.length} rounds, ${out.calls.toLocaleString('en')} calls`,
      detail: out,
    });
  }
  return rows;
}
