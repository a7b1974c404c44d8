// Values crossing a runtime boundary in FiveM go through msgpack (see msgpack.ts), so a
// receiver never shares objects with the sender and only data survives. Decoded values are
// built with the receiving context's own intrinsics so that `instanceof Object`/`Array`
// checks in the receiver hold.
import { decode, encode } from './msgpack';

export interface Realm {
  Object: ObjectConstructor;
  Array: ArrayConstructor;
  Date: DateConstructor;
  Uint8Array: Uint8ArrayConstructor;
  Error: ErrorConstructor;
  TypeError: TypeErrorConstructor;
}

export const hostRealm: Realm = { Object, Array, Date, Uint8Array, Error, TypeError };

// biome-ignore lint/complexity/noBannedTypes: any callable may cross a boundary
export type FunctionPolicy = ((fn: Function) => unknown) | null;

/**
 * A real msgpack round trip (encode in the sender, decode into `realm`), for callers that
 * need no function references: `onFunction` null turns functions into null; otherwise each
 * function becomes whatever `onFunction` returns. Bridge and Events use msgpack.ts
 * directly, with real function references.
 */
export function packCopy(value: unknown, realm: Realm, onFunction: FunctionPolicy = null): unknown {
  // biome-ignore lint/complexity/noBannedTypes: any callable may cross a boundary
  const fns: Function[] = [];
  const bytes = encode(value, {
    realm: hostRealm,
    funcRef: (fn) => String(fns.push(fn) - 1),
  });
  return decode(bytes, {
    realm,
    funcRef: (ref) => {
      const fn = fns[Number(ref)];
      return fn && onFunction ? onFunction(fn) : null;
    },
  });
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}
