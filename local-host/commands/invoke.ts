import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { API_ROUTES, FUNCTION_NAMES, FUNCTIONS, type FunctionName } from '#functions/index.ts';
import { drainOnSchedule } from '#functions/webhooks/scheduled-drain.ts';
import { errorMessage, UserFacingError } from '#shared/errors.ts';
import { isScheduledEvent } from '#shared/http-api/apigw-event.ts';
import { createApiHandler } from '#shared/http-api/lambda.ts';
import { type CliIO, EXIT } from '../io.ts';
import { type ConfigOption, commandContext, loadForCommand } from './common.ts';

function readEvent(io: CliIO, file: string): unknown {
  const path = resolve(io.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserFacingError(`cannot read event file ${path}: ${errorMessage(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UserFacingError(`event file ${path} is not JSON: ${errorMessage(error)}`);
  }
}

function isHttpEvent(event: unknown): event is Parameters<ReturnType<typeof createApiHandler>>[0] {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as { version?: unknown }).version === '2.0' &&
    typeof (event as { rawPath?: unknown }).rawPath === 'string'
  );
}

function parseBody(body: string | undefined): unknown {
  if (body === undefined || body === '') return null;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/** Calls one function's Lambda handler in-process with an event and prints `{statusCode, headers, body}`. */
export async function invokeCommand(
  io: CliIO,
  name: string,
  options: ConfigOption & { event?: string },
): Promise<number> {
  if (!Object.hasOwn(FUNCTIONS, name))
    throw new UserFacingError(`unknown function "${name}" (known: ${FUNCTION_NAMES.join(', ')})`);
  const functionName = name as FunctionName;
  const event =
    options.event === undefined
      ? FUNCTIONS[functionName].sampleEvent()
      : readEvent(io, options.event);
  const context = commandContext(io, loadForCommand(io, options.config, true));
  try {
    if (isScheduledEvent(event)) {
      const scheduled = FUNCTION_NAMES.filter((n) => FUNCTIONS[n].scheduled === true);
      if (!scheduled.includes(functionName))
        throw new UserFacingError(
          `the ${functionName} function takes API Gateway events; only ${scheduled.join(', ')} has a scheduled entry point`,
        );
      io.stdout.write(`${JSON.stringify(await drainOnSchedule(context), null, 2)}\n`);
      return EXIT.ok;
    }
    if (!isHttpEvent(event))
      throw new UserFacingError(
        'the event is neither an API Gateway HTTP API (payload 2.0) event nor an EventBridge schedule event',
      );
    const result = await createApiHandler(context, FUNCTIONS[functionName], API_ROUTES)(event);
    io.stdout.write(
      `${JSON.stringify({ statusCode: result.statusCode, headers: result.headers, body: parseBody(result.body) }, null, 2)}\n`,
    );
    return (result.statusCode ?? 500) < 400 ? EXIT.ok : EXIT.failure;
  } finally {
    await context.close();
  }
}

export function registerInvoke(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('invoke')
    .description(
      "call one function's Lambda handler directly with an API Gateway v2 event and print the answer",
    )
    .argument('<function>', `one of ${FUNCTION_NAMES.join(', ')}`)
    .option(
      '--event <file>',
      'a JSON event (API Gateway HTTP API payload 2.0, or an EventBridge schedule event for webhooks); default: a sample GET for the function',
    )
    .option(
      '--config <file>',
      'configuration file (default: $AEGIS_CONFIG, then the nearest .aegis.yaml; none: built-in defaults)',
    )
    .addHelpText('after', '\nExit status: 0 when the function answered below 400, 1 otherwise.')
    .action(async (name: string, options: ConfigOption & { event?: string }) =>
      setExit(await invokeCommand(io, name, options)),
    );
}
