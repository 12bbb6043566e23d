/** What a bench child process (run by `runTsChild`) receives on its command line. */
export function childInput<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** Hands the child's result to the bench over the IPC channel, then lets the process end. */
export function reply(value: unknown): void {
  if (!process.send) {
    process.stdout.write(`${JSON.stringify(value)}\n`);
    return;
  }
  process.send(value, () => process.disconnect());
}
