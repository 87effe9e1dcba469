import { parseArgs } from 'node:util';

export type Options = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

/**
 * A command's options, strictly parsed, with `--help` / `-h` printing `help` and exiting 0; a bad
 * option goes to `fail` with the help text, for the one-line error each CLI prints.
 */
export function commandArgs(rest: string[], options: Options, help: string, fail: (message: string) => never): Record<string, string | boolean | undefined> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: rest, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (e) {
    fail(`${(e as Error).message}\n${help}`);
  }
  if (values['help'] === true) {
    console.log(help);
    process.exit(0);
  }
  return values;
}

/**
 * The end of each CLI's command switch: `--help`, `-h` or `help` prints the usage; no command, or
 * one the CLI does not have, fails with the usage (naming the unknown command).
 */
export function otherCommand(command: string | undefined, usage: string, fail: (message: string) => never): void {
  if (command === '--help' || command === '-h' || command === 'help') console.log(usage);
  else fail(command === undefined ? usage : `unknown command "${command}"\n${usage}`);
}
