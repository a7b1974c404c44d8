// Values crossing a runtime boundary in FiveM go through msgpack, so a receiver never shares
// objects with the sender and only data survives. Copies are built with the receiving
// context's own intrinsics so that `instanceof Object`/`Array` checks in the receiver hold.

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

const MAX_DEPTH = 64;

/**
 * msgpack-shaped deep copy. `onFunction` null: functions become null (net events);
 * otherwise it maps each function to a callable reference (local events, exports).
 * Dates survive (msgpack timestamp extension); byte arrays become Uint8Array; any other
 * object keeps only its own enumerable string keys, as msgpack's map encoding does.
 */
export function packCopy(value: unknown, realm: Realm, onFunction: FunctionPolicy = null): unknown {
  const path = new Set<object>();
  const walk = (v: unknown, depth: number): unknown => {
    switch (typeof v) {
      case 'number':
      case 'string':
      case 'boolean':
        return v;
      case 'bigint':
        return Number(v);
      case 'function':
        return onFunction ? onFunction(v) : null;
      case 'undefined':
      case 'symbol':
        return null;
    }
    if (v === null) return null;
    const obj = v as object;
    if (depth > MAX_DEPTH) throw new TypeError('msgpack: value nested too deeply');
    if (path.has(obj)) throw new TypeError('msgpack: circular reference cannot be serialized');
    if (obj instanceof Date || Object.prototype.toString.call(obj) === '[object Date]') {
      return new realm.Date((obj as Date).getTime());
    }
    if (ArrayBuffer.isView(obj)) {
      const bytes = new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength);
      const out = new realm.Uint8Array(bytes.length);
      out.set(bytes);
      return out;
    }
    path.add(obj);
    try {
      if (Array.isArray(obj)) {
        const out = new realm.Array();
        for (let i = 0; i < obj.length; i++) out.push(walk(obj[i], depth + 1));
        return out;
      }
      const out = new realm.Object() as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        // defineProperty, not assignment: a `__proto__` key must stay plain data.
        realm.Object.defineProperty(out, key, {
          value: walk((obj as Record<string, unknown>)[key], depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    } finally {
      path.delete(obj);
    }
  };
  return walk(value, 0);
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}
