import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, type Tags } from 'yaml';
import { FUNCTION_NAMES, FUNCTIONS } from '#functions/index.ts';
import { renderTemplate } from './template-events.ts';
import { functionFolders, ROOT } from './test-support/bundles.ts';

/** CloudFormation's short-form intrinsics (`!Ref`, `!Sub`, …), read as their long form should the template use them. */
const CFN_TAGS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
  'Condition',
  'Ref',
].flatMap((name): Tags => {
  const tag = `!${name}`;
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  return [
    { tag, resolve: (value: string) => ({ [key]: value }) },
    { tag, collection: 'seq', resolve: (value) => ({ [key]: value.toJSON() }) },
    { tag, collection: 'map', resolve: (value) => ({ [key]: value.toJSON() }) },
  ] as Tags;
});

interface SamEvent {
  Type: string;
  Properties?: { Path?: string; Method?: string; Schedule?: string; ApiId?: unknown };
}

interface SamResource {
  Type: string;
  Properties: {
    CodeUri?: string;
    Handler?: string;
    Runtime?: string;
    Architectures?: string[];
    MemorySize?: number;
    Timeout?: unknown;
    Environment?: { Variables?: Record<string, unknown> };
    Events?: Record<string, SamEvent>;
  };
}

interface SamTemplate {
  Transform: string;
  Parameters: Record<string, { Type: string; NoEcho?: boolean; Default?: unknown }>;
  Globals: { Function: SamResource['Properties'] };
  Resources: Record<string, SamResource>;
}

const templateText = readFileSync(join(ROOT, 'infra', 'template.yaml'), 'utf8');
const template = parse(templateText, { customTags: CFN_TAGS }) as SamTemplate;

/** The one function that takes the API's $default route (an HttpApi event with no Path and no Method). */
const CATCH_ALL_FUNCTION = 'health';

/** The template's functions, by the functions/ folder their CodeUri points at. */
function templateFunctions(): Map<string, { id: string; resource: SamResource }> {
  const found = new Map<string, { id: string; resource: SamResource }>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Serverless::Function') continue;
    const match = /^\.\.\/dist\/lambda\/([^/]+)\/?$/.exec(resource.Properties.CodeUri ?? '');
    if (!match?.[1]) throw new Error(`${id}: CodeUri is not ../dist/lambda/<function>/`);
    found.set(match[1], { id, resource });
  }
  return found;
}

function httpApiEvents(resource: SamResource): SamEvent[] {
  return Object.values(resource.Properties.Events ?? {}).filter((e) => e.Type === 'HttpApi');
}

/** `METHOD /path` for every route a function's HttpApi events give it ($default aside). */
function templateRoutes(resource: SamResource): string[] {
  return httpApiEvents(resource)
    .filter((e) => e.Properties?.Path !== undefined || e.Properties?.Method !== undefined)
    .map((e) => `${(e.Properties?.Method ?? 'ANY').toUpperCase()} ${e.Properties?.Path ?? ''}`)
    .sort();
}

/** `METHOD /path` for every route a function serves, from its route declarations. */
function servedRoutes(name: string): string[] {
  const definition = FUNCTIONS[name as keyof typeof FUNCTIONS];
  if (!definition) throw new Error(`functions/${name} is not in FUNCTIONS (functions/index.ts)`);
  return definition.routes.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
}

describe('infra/template.yaml', () => {
  it('has one function per function of the registry, and no other', () => {
    // Assess
    expect([...templateFunctions().keys()].sort()).toEqual([...FUNCTION_NAMES].sort());
  });

  it('is what `npm run template` writes from the registry (CI fails when it is stale)', () => {
    expect(renderTemplate(templateText, Object.values(FUNCTIONS)) === templateText).toBe(true);
  });

  it('says which markers to add for a function the template lacks', () => {
    const withoutRuns = templateText.replace(/# BEGIN generated events of functions\/runs/, '#');
    expect(() => renderTemplate(withoutRuns, Object.values(FUNCTIONS))).toThrow(
      /no generated Events block for functions\/runs: add a resource with CodeUri \.\.\/dist\/lambda\/runs\//,
    );
  });

  it('lists in the registry every folder of functions/ that holds a Lambda handler', () => {
    expect(functionFolders()).toEqual([...FUNCTION_NAMES].sort());
  });

  it('routes to each function exactly the routes it serves', () => {
    // Prepare
    const differences: string[] = [];
    // Act
    for (const [name, { id, resource }] of templateFunctions()) {
      const inTemplate = templateRoutes(resource);
      const served = servedRoutes(name);
      const missing = served.filter((route) => !inTemplate.includes(route));
      const extra = inTemplate.filter((route) => !served.includes(route));
      for (const route of missing)
        differences.push(
          `${id} (functions/${name}) serves ${route}, which the template does not route to it`,
        );
      for (const route of extra)
        differences.push(`${id} (functions/${name}) is routed ${route}, which it does not serve`);
    }
    // Assess
    expect(differences, differences.join('\n')).toEqual([]);
  });

  it('uses SAM paths as the route declarations write them, each route once', () => {
    const all = [...templateFunctions().values()].flatMap(({ resource }) =>
      templateRoutes(resource),
    );
    expect(new Set(all).size).toBe(all.length);
    for (const route of all) expect(route).toMatch(/^(GET|POST) \/[\w./{}-]*$/);
  });

  it('gives the $default route (unmatched requests) to the health function alone', () => {
    // Prepare
    const catchAll = [...templateFunctions()].flatMap(([name, { resource }]) =>
      httpApiEvents(resource)
        .filter((e) => e.Properties?.Path === undefined && e.Properties?.Method === undefined)
        .map(() => name),
    );
    // Assess
    expect(catchAll).toEqual([CATCH_ALL_FUNCTION]);
  });

  it('runs every function on nodejs24.x from its bundle, all on one HTTP API', () => {
    const globals = template.Globals.Function;
    expect(template.Transform).toBe('AWS::Serverless-2016-10-31');
    expect(globals.Runtime).toBe('nodejs24.x');
    expect(globals.Handler).toBe('index.handler');
    expect(globals.Architectures).toEqual(['arm64']);
    for (const { resource } of templateFunctions().values()) {
      expect(resource.Properties.Runtime ?? globals.Runtime).toBe('nodejs24.x');
      expect(resource.Properties.MemorySize ?? globals.MemorySize).toBeGreaterThanOrEqual(128);
      for (const event of httpApiEvents(resource))
        expect(event.Properties?.ApiId).toEqual({ Ref: 'AegisApi' });
    }
    expect(template.Resources.AegisApi?.Type).toBe('AWS::Serverless::HttpApi');
  });

  it('drains the webhook outbox every minute from the webhooks function', () => {
    const schedules = [...templateFunctions()].flatMap(([name, { resource }]) =>
      Object.values(resource.Properties.Events ?? {})
        .filter((e) => e.Type === 'Schedule')
        .map((e) => `${name}: ${e.Properties?.Schedule}`),
    );
    expect(schedules).toEqual(['webhooks: rate(1 minute)']);
  });

  it('takes the database URL and token as parameters, the token and other secrets NoEcho', () => {
    const { Parameters } = template;
    expect(Parameters.DatabaseUrl?.Type).toBe('String');
    expect(Parameters.DatabaseAuthToken?.NoEcho).toBe(true);
    expect(Parameters.ApiKey?.NoEcho).toBe(true);
    expect(Parameters.WebhookSecret?.NoEcho).toBe(true);
    expect(Parameters.LogLevel?.Default).toBe('INFO');
    expect(template.Globals.Function.Environment?.Variables).toMatchObject({
      AEGIS_CONFIG: '/var/task/.aegis.yaml',
      AEGIS_DB_URL: { Ref: 'DatabaseUrl' },
      AEGIS_DB_AUTH_TOKEN: { Ref: 'DatabaseAuthToken' },
      LOG_LEVEL: { Ref: 'LogLevel' },
    });
  });

  it('lets a run outlive API Gateway 30 s, on the API and in the scheduled drain', () => {
    const functions = templateFunctions();
    const workflows = functions.get('workflows')?.resource.Properties;
    const webhooks = functions.get('webhooks')?.resource.Properties;
    expect(workflows?.Timeout).toEqual({ Ref: 'WorkflowTimeout' });
    expect(webhooks?.Timeout).toEqual({ Ref: 'WorkflowTimeout' });
    // The drain claims runs until 30 s before its timeout: it needs more than that.
    expect(template.Parameters.WorkflowTimeout?.Default).toBeGreaterThan(60);
  });
});
