// Command-line flags of the benchmark suites: `--name value` or `--name=value`.

export function flagValue(argv: readonly string[], name: string): string | undefined {
  const index = argv.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (index < 0) return undefined;
  const arg = argv[index]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1];
}

/** A positive number, or undefined when the flag is absent. */
export function numberFlag(argv: readonly string[], name: string): number | undefined {
  const text = flagValue(argv, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${text}`);
  return value;
}

/** Whether a flag takes a value (`--name value`, `--name=value`) or stands alone. */
export type FlagKind = 'value' | 'switch';

/**
 * Throws on a flag `known` lacks: a mistyped one would otherwise be ignored, and the run measure
 * something else than asked. A value may itself start with -- (--server-flags '--file_sync=false').
 */
export function checkFlags(argv: readonly string[], known: Readonly<Record<string, FlagKind>>, help: string): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=')[0]!;
    const kind = known[name];
    if (kind === undefined) throw new Error(`unknown flag --${name}; see ${help}`);
    if (kind === 'value' && !arg.includes('=')) i++;
  }
}
