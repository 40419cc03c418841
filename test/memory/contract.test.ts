/** Every port's contract suite against the in-memory stores, on a manual clock. */
import { ManualClock } from '../../src/core/clock.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { type MakeStores, runAllContracts } from '../contract/index.js';

const makeMemoryStores: MakeStores = async (options = {}) => {
  const clock = new ManualClock();
  return { stores: createMemoryStores({ clock, ...options }), clock, close: async () => {} };
};

runAllContracts('memory', makeMemoryStores);
