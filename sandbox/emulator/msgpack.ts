// The msgpack codec of FXServer's JavaScript runtime, rewritten for the emulator: values
// that cross from one script runtime into another are encoded to bytes by the sender and
// decoded by the receiver, exactly as data/shared/citizen/scripting/v8/main.js does with
// its msgpack-lite fork (data/shared/citizen/scripting/v8/msgpack.js), created there as
// `msgpack.createCodec({ uint8array: true, preset: false, binarraybuffer: true })`.
// Paths below are in citizenfx/fivem unless they name citizenfx/lua-cmsgpack.
//
// Encoding (msgpack.js module "write-type", getWriteType; "write-token"):
// - number: an int32 (`v === (v | 0)`) takes the smallest int format (fixint, uint8/16/32,
//   int8/16/32); anything else, NaN, ±Infinity and integers beyond int32 included, is a
//   float64. -0 is the int 0.
// - string: UTF-8 as the bundled buffer-lite `write` does it (no surrogate validation),
//   fixstr / str8 / str16 / str32.
// - boolean; null, undefined and symbols are nil.
// - array (Array.isArray): an array; holes are nil.
// - ArrayBuffer: bin (the `binarraybuffer` option). A Uint8Array, a Buffer or any other
//   view is NOT bin: it has no ext packer under `preset: false`, so it is a map of its own
//   enumerable keys ("0", "1", ...).
// - function: constructor named Function or AsyncFunction -> ext 10 (EXT_FUNCREF) holding
//   the reference string (main.js, refFunctionPacker / addExtPacker); generator functions
//   have no packer and are nil.
// - an ExtBuffer (an extension value decoded earlier, e.g. a Lua vector) is re-encoded as
//   the same extension.
// - any other object: a map of Object.keys(value), so class instances lose their prototype
//   and getters from it, a Date/Map/Set/RegExp/Error becomes {} (no ext packers:
//   `preset: false`), and an object whose `constructor.name` is Function/AsyncFunction is
//   packed as a function reference, as getExtPacker does.
// - bigint: throws `Unsupported type "bigint": ...`.
// Decoding ("read-format", "read-token"):
// - map -> a plain object built by assignment (`obj[key] = value`), so integer keys (from
//   Lua) become string keys and a `__proto__` key sets that object's prototype, as there.
// - array -> Array; bin -> ArrayBuffer; float32/float64 -> number; uint64/int64 -> number
//   (may lose precision); str -> string via buffer-lite's lenient UTF-8 reader.
// - ext 10/11 -> a callable function reference (main.js, refFunctionUnpacker); any other
//   ext -> an ExtBuffer `{ buffer, type }` (msgpack.js "ext-buffer"), `buffer` being a
//   Uint8Array subclass like the bundled Buffer polyfill. A Lua vector2/3/4 therefore
//   arrives as `{ buffer: <8/12/16 bytes of little-endian float32>, type: 20/21/22 }`
//   (citizenfx/lua-cmsgpack src/lua_cmsgpack.h lua_pack_vector, lua_pack_template.h).
// Every decoded object is made with the receiving realm's intrinsics.
import type { Realm } from './copy';

export const EXT_FUNCREF = 10;
export const EXT_LOCALFUNCREF = 11;
export const EXT_VECTOR2 = 20;
export const EXT_VECTOR3 = 21;
export const EXT_VECTOR4 = 22;

/** Deeper than this throws in the sender (the real encoder would overflow the stack). */
const MAX_DEPTH = 64;

// biome-ignore lint/complexity/noBannedTypes: any callable may be encoded
export type AnyFunction = Function;

export interface EncodeOptions {
  /** The reference string a function is packed as (ext 10). */
  funcRef: (fn: AnyFunction) => string;
  /** Error classes of the sender, for what the encoder throws. */
  realm: Realm;
}

export interface DecodeOptions {
  realm: Realm;
  /** What an ext 10/11 reference string becomes in the receiver. */
  funcRef: (ref: string, type: number) => unknown;
}

// ---- realm helpers -----------------------------------------------------------------

export interface RealmTools {
  Promise: PromiseConstructor;
  ArrayBuffer: ArrayBufferConstructor;
  /** An ExtBuffer of this realm (msgpack.js "ext-buffer"). */
  ext(bytes: Uint8Array, type: number): ExtValue;
  /** A function of this realm that calls `impl` with its arguments. */
  fn(impl: (args: unknown[]) => unknown): AnyFunction;
}

export interface ExtValue {
  buffer: Uint8Array;
  type: number;
}

const tools = new WeakMap<Realm, RealmTools>();
/** Extension values this codec made, in any realm (msgpack-lite checks `instanceof ExtBuffer`). */
const extValues = new WeakSet<object>();

// Evaluated inside the realm (with its own Function constructor) so the classes, promises
// and functions belong to it, as they do in the receiving runtime.
const REALM_TOOLS_SOURCE = `
  class Buffer extends Uint8Array {
    view() { return new DataView(this.buffer, this.byteOffset, this.byteLength); }
    readFloatLE(o = 0) { return this.view().getFloat32(o, true); }
    readFloatBE(o = 0) { return this.view().getFloat32(o, false); }
    readDoubleLE(o = 0) { return this.view().getFloat64(o, true); }
    readDoubleBE(o = 0) { return this.view().getFloat64(o, false); }
    readInt32LE(o = 0) { return this.view().getInt32(o, true); }
    readUInt32LE(o = 0) { return this.view().getUint32(o, true); }
    readUInt8(o = 0) { return this[o]; }
  }
  class ExtBuffer {
    constructor(buffer, type) { this.buffer = buffer; this.type = type; }
  }
  return {
    Promise,
    ArrayBuffer,
    ext: (bytes, type) => { const b = new Buffer(bytes.length); b.set(bytes); return new ExtBuffer(b, type); },
    fn: (impl) => function (...args) { return impl(args); },
  };`;

export function realmTools(realm: Realm): RealmTools {
  let t = tools.get(realm);
  if (!t) {
    const RealmFunction = realm.Object.constructor as FunctionConstructor;
    t = new RealmFunction(REALM_TOOLS_SOURCE)() as RealmTools;
    tools.set(realm, t);
  }
  return t;
}

/** An extension value (ExtBuffer) in `realm`, encoded back as the same extension. */
export function extValue(type: number, bytes: Uint8Array, realm: Realm): ExtValue {
  const v = realmTools(realm).ext(bytes, type);
  extValues.add(v);
  return v;
}

export function isExtValue(v: unknown): v is ExtValue {
  return typeof v === 'object' && v !== null && extValues.has(v);
}

/** A vector as Lua sends it: ext 20/21/22 of little-endian float32 components. */
export function vectorExt(components: readonly number[], realm: Realm): ExtValue {
  const bytes = new Uint8Array(components.length * 4);
  const view = new DataView(bytes.buffer);
  components.forEach((c, i) => {
    view.setFloat32(i * 4, c, true);
  });
  return extValue(EXT_VECTOR2 + components.length - 2, bytes, realm);
}

/** The components of a vector extension value (float32 precision). */
export function vectorComponents(v: ExtValue): number[] {
  const view = new DataView(v.buffer.buffer, v.buffer.byteOffset, v.buffer.byteLength);
  return Array.from({ length: v.buffer.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

// ---- encoder -------------------------------------------------------------------------

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v & 0xff;
  }

  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.len, v);
    this.len += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.len, v >>> 0);
    this.len += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.len, v);
    this.len += 8;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** UTF-8 as msgpack.js "buffer-lite" write does it: surrogates are paired blindly. */
function utf8(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 3);
  let n = 0;
  for (let i = 0; i < s.length; ) {
    let c = s.charCodeAt(i++);
    if (c < 0x80) out[n++] = c;
    else if (c < 0x800) {
      out[n++] = 0xc0 | (c >>> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      out[n++] = 0xe0 | (c >>> 12);
      out[n++] = 0x80 | ((c >>> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      c = 0x10000 + (((c - 0xd800) << 10) | (s.charCodeAt(i++) - 0xdc00));
      out[n++] = 0xf0 | ((c >>> 18) & 0x07);
      out[n++] = 0x80 | ((c >>> 12) & 0x3f);
      out[n++] = 0x80 | ((c >>> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return out.subarray(0, n);
}

const tag = (v: object): string => Object.prototype.toString.call(v);

function isPackedAsFunction(v: object): boolean {
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  const name = ctor?.name;
  return name === 'Function' || name === 'AsyncFunction';
}

/** Encodes `value` as FXServer's JS runtime does; throws on cycles and absurd depth. */
export function encode(value: unknown, opts: EncodeOptions): Uint8Array {
  const { realm } = opts;
  const w = new Writer();
  const path = new Set<object>();

  const writeInt = (n: number) => {
    if (n >= -32 && n <= 127) w.u8(n & 0xff);
    else if (n >= 0) {
      if (n <= 0xff) {
        w.u8(0xcc);
        w.u8(n);
      } else if (n <= 0xffff) {
        w.u8(0xcd);
        w.u16(n);
      } else {
        w.u8(0xce);
        w.u32(n);
      }
    } else if (n >= -128) {
      w.u8(0xd0);
      w.u8(n);
    } else if (n >= -32768) {
      w.u8(0xd1);
      w.u16(n & 0xffff);
    } else {
      w.u8(0xd2);
      w.u32(n);
    }
  };
  const writeStr = (s: string) => {
    const b = utf8(s);
    const n = b.length;
    if (n < 32) w.u8(0xa0 + n);
    else if (n <= 0xff) {
      w.u8(0xd9);
      w.u8(n);
    } else if (n <= 0xffff) {
      w.u8(0xda);
      w.u16(n);
    } else {
      w.u8(0xdb);
      w.u32(n);
    }
    w.bytes(b);
  };
  const writeExt = (type: number, b: Uint8Array) => {
    const n = b.length;
    const fix = ({ 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 } as Record<number, number>)[n];
    if (fix !== undefined) w.u8(fix);
    else if (n < 255) {
      w.u8(0xc7);
      w.u8(n);
    } else if (n <= 0xffff) {
      w.u8(0xc8);
      w.u16(n);
    } else {
      w.u8(0xc9);
      w.u32(n);
    }
    w.u8(type);
    w.bytes(b);
  };
  const writeFuncRef = (fn: AnyFunction) => writeExt(EXT_FUNCREF, utf8(opts.funcRef(fn)));

  const walk = (v: unknown, depth: number): void => {
    switch (typeof v) {
      case 'boolean':
        w.u8(v ? 0xc3 : 0xc2);
        return;
      case 'number':
        if (v === (v | 0)) writeInt(v | 0);
        else {
          w.u8(0xcb);
          w.f64(v);
        }
        return;
      case 'string':
        writeStr(v);
        return;
      case 'undefined':
      case 'symbol':
        w.u8(0xc0);
        return;
      case 'bigint':
        throw new realm.Error(`Unsupported type "bigint": ${v}`);
      case 'function':
        if (isPackedAsFunction(v)) writeFuncRef(v);
        else w.u8(0xc0);
        return;
    }
    if (v === null) {
      w.u8(0xc0);
      return;
    }
    const obj = v as object;
    if (depth > MAX_DEPTH) throw new realm.TypeError('msgpack: value nested too deeply');
    if (path.has(obj))
      throw new realm.TypeError('msgpack: circular reference cannot be serialized');
    if (tag(obj) === '[object ArrayBuffer]') {
      const b = new Uint8Array(obj as ArrayBuffer);
      const n = b.length;
      if (n < 255) {
        w.u8(0xc4);
        w.u8(n);
      } else if (n <= 0xffff) {
        w.u8(0xc5);
        w.u16(n);
      } else {
        w.u8(0xc6);
        w.u32(n);
      }
      w.bytes(b);
      return;
    }
    path.add(obj);
    try {
      if (Array.isArray(obj)) {
        const n = obj.length;
        if (n < 16) w.u8(0x90 + n);
        else if (n <= 0xffff) {
          w.u8(0xdc);
          w.u16(n);
        } else {
          w.u8(0xdd);
          w.u32(n);
        }
        for (let i = 0; i < n; i++) walk(obj[i], depth + 1);
        return;
      }
      if (isPackedAsFunction(obj)) {
        writeFuncRef(obj as AnyFunction);
        return;
      }
      if (isExtValue(obj)) {
        writeExt(obj.type, obj.buffer);
        return;
      }
      const keys = Object.keys(obj);
      const n = keys.length;
      if (n < 16) w.u8(0x80 + n);
      else if (n <= 0xffff) {
        w.u8(0xde);
        w.u16(n);
      } else {
        w.u8(0xdf);
        w.u32(n);
      }
      for (const key of keys) {
        writeStr(key);
        walk((obj as Record<string, unknown>)[key], depth + 1);
      }
    } finally {
      path.delete(obj);
    }
  };
  walk(value, 0);
  return w.done();
}

// ---- decoder -------------------------------------------------------------------------

/** UTF-8 as msgpack.js "buffer-lite" toString reads it: stray bytes become Latin-1. */
function readUtf8(b: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; ) {
    let c = b[i++]!;
    if (c >= 0x80) {
      if ((c & 0xe0) === 0xc0) c = ((c & 0x1f) << 6) | (b[i++]! & 0x3f);
      else if ((c & 0xf0) === 0xe0)
        c = ((c & 0x0f) << 12) | ((b[i++]! & 0x3f) << 6) | (b[i++]! & 0x3f);
      else if ((c & 0xf8) === 0xf0)
        c =
          ((c & 0x07) << 18) |
          ((b[i++]! & 0x3f) << 12) |
          ((b[i++]! & 0x3f) << 6) |
          (b[i++]! & 0x3f);
    }
    if (c >= 0x10000) {
      c -= 0x10000;
      out += String.fromCharCode(0xd800 + (c >>> 10), 0xdc00 + (c & 0x3ff));
    } else out += String.fromCharCode(c);
  }
  return out;
}

/** Decodes the first value of `bytes` into `opts.realm`. */
export function decode(bytes: Uint8Array, opts: DecodeOptions): unknown {
  const { realm } = opts;
  const t = realmTools(realm);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number): number => {
    if (pos + n > bytes.length) throw new realm.Error('BUFFER_SHORTAGE');
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => bytes[need(1)]!;
  const u16 = () => view.getUint16(need(2));
  const u32 = () => view.getUint32(need(4));

  const str = (n: number) => {
    const at = need(n);
    return readUtf8(bytes, at, at + n);
  };
  const bin = (n: number) => {
    const at = need(n);
    const out = new realm.Uint8Array(n);
    out.set(bytes.subarray(at, at + n));
    return out.buffer;
  };
  const ext = (n: number) => {
    const type = view.getInt8(need(1));
    const at = need(n);
    const payload = bytes.subarray(at, at + n);
    if (type === EXT_FUNCREF || type === EXT_LOCALFUNCREF) {
      return opts.funcRef(readUtf8(payload, 0, payload.length), type);
    }
    const v = t.ext(payload, type);
    extValues.add(v);
    return v;
  };
  const array = (n: number) => {
    const out = new realm.Array(n);
    for (let i = 0; i < n; i++) out[i] = read();
    return out;
  };
  const map = (n: number) => {
    // Keys and values are read first, then assigned, as msgpack.js read-format does.
    const keys = new Array(n);
    const values = new Array(n);
    for (let i = 0; i < n; i++) {
      keys[i] = read();
      values[i] = read();
    }
    const out = new realm.Object() as Record<string, unknown>;
    for (let i = 0; i < n; i++) out[keys[i]] = values[i];
    return out;
  };

  const read = (): unknown => {
    const b = u8();
    if (b <= 0x7f) return b;
    if (b <= 0x8f) return map(b - 0x80);
    if (b <= 0x9f) return array(b - 0x90);
    if (b <= 0xbf) return str(b - 0xa0);
    if (b >= 0xe0) return b - 0x100;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return bin(u8());
      case 0xc5:
        return bin(u16());
      case 0xc6:
        return bin(u32());
      case 0xc7:
        return ext(u8());
      case 0xc8:
        return ext(u16());
      case 0xc9:
        return ext(u32());
      case 0xca:
        return view.getFloat32(need(4));
      case 0xcb:
        return view.getFloat64(need(8));
      case 0xcc:
        return u8();
      case 0xcd:
        return u16();
      case 0xce:
        return u32();
      case 0xcf: {
        const at = need(8);
        return view.getUint32(at) * 4294967296 + view.getUint32(at + 4);
      }
      case 0xd0:
        return view.getInt8(need(1));
      case 0xd1:
        return view.getInt16(need(2));
      case 0xd2:
        return view.getInt32(need(4));
      case 0xd3: {
        const at = need(8);
        return view.getInt32(at) * 4294967296 + view.getUint32(at + 4);
      }
      case 0xd4:
        return ext(1);
      case 0xd5:
        return ext(2);
      case 0xd6:
        return ext(4);
      case 0xd7:
        return ext(8);
      case 0xd8:
        return ext(16);
      case 0xd9:
        return str(u8());
      case 0xda:
        return str(u16());
      case 0xdb:
        return str(u32());
      case 0xdc:
        return array(u16());
      case 0xdd:
        return array(u32());
      case 0xde:
        return map(u16());
      case 0xdf:
        return map(u32());
    }
    throw new realm.Error(`Invalid type: 0x${b.toString(16)}`);
  };
  return read();
}

export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
