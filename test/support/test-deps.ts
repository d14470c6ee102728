// The one place tests decide to go without a system tool (scripts/test-deps.mjs says which tools,
// how to find them and how to install them). `describe.skipIf(skipWithout('nats-server'))(...)`
// skips a block only when the tool is missing and TSTAN_TEST_DEPS is not `required`; under
// .ci/run it is, so a missing tool fails there instead. global-setup.ts says once per run what is
// skipped and how to install it.
import { missingTestTools, testDepsRequired, type TestToolName } from '../../scripts/test-deps.mjs';

/** True when tests needing `tools` must be skipped on this machine. */
export function skipWithout(...tools: TestToolName[]): boolean {
  return !testDepsRequired() && missingTestTools(tools).length > 0;
}
