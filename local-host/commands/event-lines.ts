import type { AegisEvent } from '#shared/events/types.ts';
import { formatDuration, type Paint, SYMBOL } from '../format.ts';

/** What an event line may show: a stored event has its id, one heard in-process does not. */
export type PrintableEvent = AegisEvent & { id?: number };

/** Wide enough for `workflow.completed`, so the columns line up. */
const TYPE_WIDTH = 18;

/**
 * One readable line per event, as `aegis events` and `aegis run --follow`
 * print them: time, type, workflow, run id, then what the event says.
 */
export function describeEvent(event: PrintableEvent, paint: Paint): string {
  const head = `${paint.dim(event.timestamp)}  ${event.event_type.padEnd(TYPE_WIDTH)}  ${event.workflow_name}  ${paint.dim(event.run_id)}`;
  const detail = eventDetail(event, paint);
  return detail ? `${head}  ${detail}` : head;
}

function eventDetail({ event_type, data }: PrintableEvent, paint: Paint): string {
  const step = `${String(data.step_type ?? '?')} ${paint.dim(`(${String(data.service ?? '?')})`)}`;
  switch (event_type) {
    case 'workflow.started':
      return `${data.step_count} step${data.step_count === 1 ? '' : 's'}`;
    case 'step.completed': {
      const time = typeof data.duration_ms === 'number' ? formatDuration(data.duration_ms) : '';
      const reused = data.reused ? paint.dim(' reused') : '';
      if (data.skipped) return `${paint.yellow(SYMBOL.skipped)} ${step} skipped${reused}`;
      return data.success
        ? `${paint.green(SYMBOL.passed)} ${step} ${time}${reused}`
        : `${paint.red(SYMBOL.failed)} ${step} ${time}${reused}`;
    }
    case 'failure.detected':
      return `${paint.red(SYMBOL.failed)} ${step} ${paint.red(String(data.error ?? 'failed'))}`;
    case 'workflow.completed': {
      const counts = `${data.steps_passed} passed, ${data.steps_failed} failed, ${data.steps_skipped} skipped`;
      const time =
        typeof data.total_duration_ms === 'number'
          ? ` in ${formatDuration(data.total_duration_ms)}`
          : '';
      return data.success
        ? paint.green(`${SYMBOL.passed} succeeded: ${counts}${time}`)
        : paint.red(`${SYMBOL.failed} failed: ${counts}${time}`);
    }
    case 'workflow.cancelled':
      return paint.yellow(`${SYMBOL.skipped} cancelled: ${String(data.reason ?? '')}`);
  }
}

/** The line for an event: readable, or its JSON (one object per line, JSON Lines). */
export function eventLine(event: PrintableEvent, paint: Paint, json: boolean): string {
  return json ? JSON.stringify(event) : describeEvent(event, paint);
}
