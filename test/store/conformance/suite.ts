// The store conformance suite: every Store implementation calls `storeConformance` from its own
// test file (as abstract-level's suite does), so MEMORY and FILE are held to one contract.
// Persistent stores also run the store/recover round trips.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Harness, type ConformanceOpen } from './harness.js';
import { modelCases } from './model-cases.js';
import { msgCases } from './msg-cases.js';
import { persistenceCases } from './persistence-cases.js';
import { storeCases } from './store-cases.js';
import { subCases } from './sub-cases.js';

export type { ConformanceOpen } from './harness.js';
export { Harness, FakeClock, msg, sub, serverInfo, BASE_TIME_NS } from './harness.js';

export interface ConformanceCapabilities {
  /** Must equal the store's own `capabilities.persistent`; enables the recovery cases. */
  persistent: boolean;
}

export function storeConformance(
  name: string,
  openStore: ConformanceOpen,
  capabilities: ConformanceCapabilities,
): void {
  describe(`store conformance: ${name}`, () => {
    let harness: Harness;
    const h = (): Harness => harness;

    beforeEach(async () => {
      harness = new Harness(openStore);
      await harness.setUp();
    });
    afterEach(async () => {
      await harness.tearDown();
    });

    it('declares the capabilities the suite was told about', async () => {
      const store = await harness.fresh();
      expect(store.capabilities.persistent).toBe(capabilities.persistent);
    });

    describe('store', () => storeCases(h));
    describe('messages', () => msgCases(h));
    describe('subscriptions', () => subCases(h));
    describe('model', () => modelCases(h, capabilities.persistent));
    if (capabilities.persistent) describe('recovery', () => persistenceCases(h));
  });
}
