import { NotFoundError } from '../errors.ts';
import type { AegisConfig, ServiceConfig, WorkflowConfig } from './schema.ts';

/** An entry of one of the config's maps, or a 404 that lists what exists. */
function findEntry<T>(entries: Readonly<Record<string, T>>, key: string, noun: string): T {
  const entry = Object.hasOwn(entries, key) ? entries[key] : undefined;
  if (entry !== undefined) return entry;
  const known = Object.keys(entries);
  throw new NotFoundError(
    `unknown ${noun} "${key}" (${known.length > 0 ? `known: ${known.join(', ')}` : `no ${noun}s are configured`})`,
  );
}

export function findWorkflow(config: AegisConfig, key: string): WorkflowConfig {
  return findEntry(config.workflows, key, 'workflow');
}

export function findService(config: AegisConfig, key: string): ServiceConfig {
  return findEntry(config.services, key, 'service');
}
