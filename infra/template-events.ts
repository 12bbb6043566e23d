import type { FunctionDefinition } from '#functions/index.ts';

/** How often the EventBridge schedule invokes the scheduled function (SPEC §5, §11, §12 on Lambda). */
export const DRAIN_SCHEDULE = 'rate(1 minute)';

const BEGIN = (name: string) =>
  `        # BEGIN generated events of functions/${name} (npm run template)`;
const END = (name: string) => `        # END generated events of functions/${name}`;

/** `post /api/runs/{run_id}/cancel` → `PostApiRunsRunIdCancel`: one name per route, as its OpenAPI operationId. */
export function eventName(method: string, path: string): string {
  const words = `${method} ${path}`
    .replace(/[{}]/g, '')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '');
  return words
    .flatMap((word) => word.split('_'))
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/** The YAML lines of a function's `Events`: one HttpApi event per route, the catch-all, the schedule. */
export function eventsYaml(fn: FunctionDefinition): string[] {
  const lines: string[] = [];
  const event = (name: string, type: string, properties: string[]) =>
    lines.push(
      `        ${name}:`,
      `          Type: ${type}`,
      '          Properties:',
      ...properties,
    );
  const onApi = ['            ApiId:', '              Ref: AegisApi'];
  for (const route of fn.routes)
    event(eventName(route.method, route.path), 'HttpApi', [
      ...onApi,
      `            Method: ${route.method.toUpperCase()}`,
      `            Path: ${route.path}`,
    ]);
  if (fn.catchAll) {
    // No Path and no Method: the API's $default route, taken by any request no other route
    // matches, so an unknown path gets the API's JSON 404 (or a 405) rather than API Gateway's own.
    lines.push(
      "        # The API's $default route: every request no other route matches (JSON 404/405).",
    );
    event('Unmatched', 'HttpApi', onApi);
  }
  if (fn.scheduled)
    event('Drain', 'Schedule', [
      `            Schedule: ${DRAIN_SCHEDULE}`,
      '            Description: Reconciles the run queue, queues due schedule ticks, executes queued runs, sends due webhook deliveries.',
      '            Enabled: true',
    ]);
  return lines;
}

/**
 * The template with every function's generated Events block rewritten from
 * the registry. Throws naming what is missing when a function has no
 * resource, or its resource no markers.
 */
export function renderTemplate(template: string, functions: readonly FunctionDefinition[]): string {
  let out = template;
  for (const fn of functions) {
    const begin = out.indexOf(BEGIN(fn.name));
    const end = out.indexOf(END(fn.name));
    if (begin === -1 || end === -1 || end < begin)
      throw new Error(
        `infra/template.yaml has no generated Events block for functions/${fn.name}: add a resource with CodeUri ../dist/lambda/${fn.name}/ and, under Events:, the lines\n${BEGIN(fn.name)}\n${END(fn.name)}`,
      );
    out = `${out.slice(0, begin)}${[BEGIN(fn.name), ...eventsYaml(fn)].join('\n')}\n${out.slice(end)}`;
  }
  return out;
}
