// Size literals as the NATS configuration parser reads them (`1KB` = 1024, `1K` = 1000): the
// reference server runs size flags (`-mb`, `--file_slice_max_bytes`) through that same parser.

const multipliers: Readonly<Record<string, number>> = Object.freeze({
  '': 1,
  k: 1e3,
  kb: 1024,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1024 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1024 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1024 ** 4,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1024 ** 5,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
});

/** The multiplier of a size suffix (case-insensitive), or undefined if it is not one. */
export function sizeMultiplier(suffix: string): number | undefined {
  return multipliers[suffix.toLowerCase()];
}

/** Parses `1024`, `10MB`, `1k`, `-1`; returns undefined when the text is not a whole size. */
export function parseSizeBytes(text: string): number | undefined {
  const match = /^\s*(-?\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (match === null) return undefined;
  const multiplier = sizeMultiplier(match[2] ?? '');
  if (multiplier === undefined) return undefined;
  const value = Number(match[1]) * multiplier;
  return Number.isSafeInteger(value) ? value : undefined;
}
