import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ROOT } from './test-support/bundles.ts';

/** A YAML file of the repository, parsed (`<<` merge keys on, as Compose reads them); a syntax error fails. */
function yamlFile<T>(path: string): T {
  const document = parseDocument(readFileSync(join(ROOT, path), 'utf8'), { merge: true });
  expect(document.errors.map((error) => error.message)).toEqual([]);
  return document.toJS() as T;
}

interface Workflow {
  jobs: Record<
    string,
    {
      'runs-on': string;
      services?: Record<string, { image: string; ports?: string[]; env?: Record<string, string> }>;
      steps: { name?: string; run?: string; uses?: string; env?: Record<string, string> }[];
    }
  >;
}

interface ComposeService {
  profiles?: string[];
  image?: string;
  ports?: string[];
  environment?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: unknown[];
}

/** Files named `*.remote.test.ts` under the folders Vitest includes. */
function remoteTestFiles(): string[] {
  return ['shared', 'functions', 'local-host', 'infra', 'test'].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.remote.test.ts'))
      .map((file) => join(dir, file)),
  );
}

describe('.github/workflows/ci.yml', () => {
  const workflow = yamlFile<Workflow>('.github/workflows/ci.yml');

  it('gives every job a runner and steps that each run or use something', () => {
    // Assess
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect(job['runs-on'], name).toBe('ubuntu-latest');
      expect(job.steps.length, name).toBeGreaterThan(0);
      for (const step of job.steps)
        expect(Boolean(step.run) !== Boolean(step.uses), name).toBe(true);
    }
  });

  it('runs the remote tests against the libSQL server container its remote-libsql job starts', () => {
    // Prepare
    const job = workflow.jobs['remote-libsql'];
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    // Assess
    const service = job?.services?.libsql;
    expect(service?.image).toMatch(/^ghcr\.io\/tursodatabase\/libsql-server:v\d+\.\d+\.\d+$/);
    expect(service?.ports).toEqual(['8080:8080']);
    const tests = job?.steps.find((step) => step.run === 'npm run test:remote');
    expect(tests?.env).toEqual({ AEGIS_DB_URL: 'http://127.0.0.1:8080' });
    const wait = job?.steps.findIndex((step) => step.run?.includes('http://127.0.0.1:8080/health'));
    expect(wait).toBeGreaterThanOrEqual(0);
    expect(wait).toBeLessThan(job?.steps.indexOf(tests as NonNullable<typeof tests>) ?? -1);
    expect(scripts['test:remote']).toBe('vitest run .remote.test.ts');
    expect(remoteTestFiles()).toContain(join('shared', 'db', 'open.remote.test.ts'));
  });
});

describe('docker-compose.yml', () => {
  const { services, volumes } = yamlFile<{
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  }>('docker-compose.yml');
  const inProfile = (profile: string | undefined) =>
    Object.keys(services)
      .filter((name) => services[name]?.profiles?.[0] === profile)
      .sort();

  it('starts only aegis on a plain `up`: the demo and scale services are behind their profiles', () => {
    // Assess
    expect(inProfile(undefined)).toEqual(['aegis']);
    expect(inProfile('demo')).toEqual(['demo-pipeline', 'demo-services']);
    expect(inProfile('scale')).toEqual(['aegis-a', 'aegis-b', 'libsql']);
    expect(Object.values(services).every((s) => (s.profiles?.length ?? 0) <= 1)).toBe(true);
  });

  it('scale: two hosts, one port each, on the libSQL server once it is healthy', () => {
    // Prepare
    const hosts = ['aegis-a', 'aegis-b'].map((name) => services[name] as ComposeService);
    const libsql = services.libsql as ComposeService;
    // Assess
    expect(libsql.image).toMatch(/^ghcr\.io\/tursodatabase\/libsql-server:v\d+\.\d+\.\d+$/);
    expect(libsql.healthcheck?.test.join(' ')).toContain('GET /health');
    expect(libsql.volumes).toEqual(['libsql-data:/var/lib/sqld']);
    expect(Object.keys(volumes)).toContain('libsql-data');
    expect(hosts.map((host) => host.ports)).toEqual([
      [`\${AEGIS_A_PORT:-8001}:8000`],
      [`\${AEGIS_B_PORT:-8002}:8000`],
    ]);
    for (const host of hosts) {
      expect(host.environment).toContain('AEGIS_DB_URL=http://libsql:8080');
      expect(host.environment?.some((v) => v.startsWith('AEGIS_DB_PATH'))).toBe(false);
      expect(host.depends_on).toEqual({ libsql: { condition: 'service_healthy' } });
      expect(host.healthcheck?.test).toContain('healthcheck');
    }
  });
});
