import type { EventType } from '../config/schema.ts';

export type { EventType } from '../config/schema.ts';
export { EVENT_TYPES } from '../config/schema.ts';

/** A lifecycle event (SPEC §3), as stored, listed and sent to webhooks. */
export interface AegisEvent {
  event_type: EventType;
  /** ISO 8601, UTC. */
  timestamp: string;
  workflow_name: string;
  run_id: string;
  data: Record<string, unknown>;
}
