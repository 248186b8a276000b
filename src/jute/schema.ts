// Records as data: a record is declared once as a list of (name, type) fields and
// its encoder, decoder and TypeScript type are all derived from that one list.
// The same mechanism serves the client protocol, our log entries and snapshots.

import { Reader, Writer } from './codec.js';

export interface Codec<T> {
  readonly name: string;
  decode(r: Reader): T;
  encode(w: Writer, v: T): void;
}

export type FieldType =
  | 'int'
  | 'long'
  | 'bool'
  | 'ustring' // null on the wire decodes as ''
  | 'ustring?' // null preserved
  | 'buffer' // null preserved (ZooKeeper distinguishes null data from empty data)
  | VectorType
  | Codec<any>;

export interface VectorType {
  readonly vector: FieldType;
}

export type ValueOf<F> = F extends 'int' | 'long'
  ? number
  : F extends 'bool'
    ? boolean
    : F extends 'ustring'
      ? string
      : F extends 'ustring?'
        ? string | null
        : F extends 'buffer'
          ? Buffer | null
          : F extends { readonly vector: infer E }
            ? ValueOf<E>[]
            : F extends Codec<infer T>
              ? T
              : never;

type Fields = readonly (readonly [string, FieldType])[];
export type RecordOf<Fs extends Fields> = { [K in Fs[number] as K[0]]: ValueOf<K[1]> };

export function vector<F extends FieldType>(of: F): { readonly vector: F } {
  return { vector: of };
}

type Dec = (r: Reader) => unknown;
type Enc = (w: Writer, v: any) => void;

function decoderFor(t: FieldType): Dec {
  switch (t) {
    case 'int':
      return (r) => r.int();
    case 'long':
      return (r) => r.long();
    case 'bool':
      return (r) => r.bool();
    case 'ustring':
      return (r) => r.ustring();
    case 'ustring?':
      return (r) => r.ustringOrNull();
    case 'buffer':
      return (r) => r.buffer();
  }
  if ('vector' in t) {
    const el = decoderFor(t.vector);
    return (r) => {
      const n = r.vectorLength();
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(el(r));
      return out; // a null vector (-1) decodes as empty: servers never need the distinction
    };
  }
  return (r) => t.decode(r);
}

function encoderFor(t: FieldType): Enc {
  switch (t) {
    case 'int':
      return (w, v) => w.int(v);
    case 'long':
      return (w, v) => w.long(v);
    case 'bool':
      return (w, v) => w.bool(v);
    case 'ustring':
    case 'ustring?':
      return (w, v) => w.ustring(v);
    case 'buffer':
      return (w, v) => w.buffer(v);
  }
  if ('vector' in t) {
    const el = encoderFor(t.vector);
    return (w, v: unknown[] | null) => {
      if (v === null) {
        w.int(-1);
        return;
      }
      w.int(v.length);
      for (const x of v) el(w, x);
    };
  }
  return (w, v) => t.encode(w, v);
}

/** Declares a record. The field order is the wire order. */
export function record<const Fs extends Fields>(name: string, fields: Fs): Codec<RecordOf<Fs>> & { fields: Fs } {
  const names = fields.map((f) => f[0]);
  const decs = fields.map((f) => decoderFor(f[1]));
  const encs = fields.map((f) => encoderFor(f[1]));
  const n = fields.length;
  return {
    name,
    fields,
    decode(r: Reader): RecordOf<Fs> {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) o[names[i]!] = decs[i]!(r);
      return o as RecordOf<Fs>;
    },
    encode(w: Writer, v: RecordOf<Fs>): void {
      const o = v as Record<string, unknown>;
      for (let i = 0; i < n; i++) encs[i]!(w, o[names[i]!]);
    },
  };
}

/** Encodes one record into a fresh buffer. */
export function encodeToBuffer<T>(codec: Codec<T>, v: T, w = new Writer()): Buffer {
  w.reset();
  codec.encode(w, v);
  return w.toBuffer();
}

/** Decodes one record from a whole buffer. */
export function decodeFromBuffer<T>(codec: Codec<T>, b: Buffer): T {
  return codec.decode(new Reader(b));
}
