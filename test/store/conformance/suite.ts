// The store conformance suite: every Store implementation calls `storeConformance` from its own
// test file (as abstract-level's suite does), so MEMORY and FILE are held to one contract.
// Persistent stores also run the store/recover round trips.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MsgProto } from '../../../src/store/records.js';
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
  /**
   * Case groups to run; all by default. Meant for test doubles that model only part of the
   * contract (the suite's own self-check); a real store runs everything.
   */
  groups?: readonly ConformanceGroup[];
  /** Bytes a stored message counts for, when not msgProtoSize (an encrypting store's sealed size). */
  storedSize?: (m: MsgProto) => number;
}

export type ConformanceGroup = 'store' | 'messages' | 'subscriptions' | 'model' | 'recovery';

export function storeConformance(
  name: string,
  openStore: ConformanceOpen,
  capabilities: ConformanceCapabilities,
): void {
  describe(`store conformance: ${name}`, () => {
    let harness: Harness;
    const h = (): Harness => harness;

    beforeEach(async () => {
      harness = new Harness(openStore, capabilities.storedSize);
      await harness.setUp();
    });
    afterEach(async () => {
      await harness.tearDown();
    });

    it('declares the capabilities the suite was told about', async () => {
      const store = await harness.fresh();
      expect(store.capabilities.persistent).toBe(capabilities.persistent);
    });

    const runs = (group: ConformanceGroup): boolean => capabilities.groups?.includes(group) ?? true;
    if (runs('store')) describe('store', () => storeCases(h));
    if (runs('messages')) describe('messages', () => msgCases(h));
    if (runs('subscriptions')) describe('subscriptions', () => subCases(h));
    if (runs('model')) describe('model', () => modelCases(h, capabilities.persistent));
    if (capabilities.persistent && runs('recovery')) describe('recovery', () => persistenceCases(h));
  });
}
