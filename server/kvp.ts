/**
 * Resource KVP as a KeyValueStore. SetResourceKvp writes through to the server's database
 * before it returns; the NoSync variants could lose the last calls on a crash, so they are
 * never used here.
 */
import { type KeyValueStore, KvpSearchBusy } from '../shared/delivery/outbox';

export const resourceKvp: KeyValueStore = {
  get: (key) => GetResourceKvpString(key) ?? null,
  set: (key, value) => SetResourceKvp(key, value),
  delete: (key) => DeleteResourceKvp(key),
  keys(prefix) {
    const keys: string[] = [];
    const handle = StartFindKvp(prefix);
    // -1 is not "nothing saved": all 64 search handles, shared by every resource on the
    // server, are taken (citizenfx/fivem ServerKVScriptFunctions.cpp, GetFindHandle).
    if (handle === -1) throw new KvpSearchBusy(prefix);
    try {
      for (let key = FindKvp(handle); key; key = FindKvp(handle)) keys.push(key);
    } finally {
      EndFindKvp(handle);
    }
    return keys;
  },
};
