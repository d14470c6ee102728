// What the chaos command lines (cli.ts, soak-cli.ts) share: a mistake on the command line is said
// in one line with the usage and exits 2, like any harness error, but without a stack.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const EXIT_HARNESS = 2;

export class UsageError extends Error {}

/** parseArgs, its errors (an unknown flag, a missing value) turned into UsageErrors. */
export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Runs `main` and exits with its code; a UsageError prints `usage`, anything else its stack. */
export function runMain(main: () => Promise<number>, usage: string): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError) process.stderr.write(`${error.message}\n${usage}`);
      else process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(EXIT_HARNESS);
    },
  );
}
