// Runs once per vitest run, before any test file: says in one line which tests are skipped for
// want of a system tool and how to install it, or, with TSTAN_TEST_DEPS=required (.ci/run),
// fails the run instead of skipping anything.
import { installCommand, missingTestTools, missingToolsLine, testDepsRequired } from '../../scripts/test-deps.mjs';

export default function setup(): void {
  const missing = missingTestTools();
  if (missing.length === 0) return;
  if (testDepsRequired()) {
    throw new Error(`TSTAN_TEST_DEPS=required and ${missing.map((tool) => tool.name).join(', ')} missing: ${installCommand(missing)}`);
  }
  process.stderr.write(`\n${missingToolsLine(missing)}\n\n`);
}
