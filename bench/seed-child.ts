// Seeds runs into a history file in a process of its own, so that the native memory the libSQL
// client keeps per write transaction (about 14 KB per batch here; libsql-client-ts #333, #350)
// is given back when it exits:
//   node --import ./infra/register-ts.mjs bench/seed-child.ts '{"dbPath":"/tmp/h.db","runs":10000}'
import { childInput, reply } from './child.ts';
import { seedHistory } from './history.ts';

export interface SeedInput {
  dbPath: string;
  runs: number;
}

const { dbPath, runs } = childInput<SeedInput>();
reply({ ms: await seedHistory(dbPath, runs) });
