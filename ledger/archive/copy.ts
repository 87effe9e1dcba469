import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * COPY … FROM STDIN through pg-copy-streams: one COPY carries a whole batch in a single round trip
 * and PostgreSQL parses no SQL or JSON per row, about twice the rate of the multi-row INSERT it
 * replaced. The rows go out in pieces of a megabyte, so no protocol message grows with the batch.
 */
const CHUNK = 1 << 20;

function* chunksOf(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += CHUNK) yield data.subarray(at, at + CHUNK);
}

/** Runs `COPY <table> (<columns>) FROM STDIN (FORMAT binary)` with `rows` (what BinaryRows made) on `client`. */
export async function copyIn(client: pg.PoolClient, table: string, columns: readonly string[], rows: Buffer): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN (FORMAT binary)`));
  await pipeline(Readable.from(chunksOf(rows), { objectMode: false }), stream);
}

/** The binary format's signature, flags and (empty) header extension. */
const HEADER = Buffer.from('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0', 'latin1');
/** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z). */
const PG_EPOCH_US = 946_684_800_000_000;
const TEXT_OID = 25;
const TWO_32 = 2 ** 32;

/**
 * Rows in COPY's binary format, written field by field into one growing buffer: PostgreSQL reads
 * each value as it is stored (a time as its microseconds, an array as its elements) instead of
 * scanning, unescaping and parsing text, and no field is ever escaped here.
 */
export class BinaryRows {
  private buf: Buffer;
  private at = 0;

  constructor(expectedBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(expectedBytes, 4096));
    this.at = HEADER.copy(this.buf, 0);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  /** Starts a row of `fields` values. */
  row(fields: number): void {
    this.room(2);
    this.at = this.buf.writeInt16BE(fields, this.at);
  }

  /** A text value (UTF-8), or NULL. */
  text(s: string | null): void {
    if (s === null) return this.null();
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    this.room(4 + s.length * 3);
    const n = this.buf.write(s, this.at + 4, 'utf8');
    this.buf.writeInt32BE(n, this.at);
    this.at += 4 + n;
  }

  /** A bigint value: an integer within JavaScript's safe range. */
  int8(n: number): void {
    if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
    this.room(12);
    this.at = this.buf.writeInt32BE(8, this.at);
    this.int64(n);
  }

  /** A timestamptz value: microseconds since the Unix epoch (microsOf). */
  timestamptz(micros: number): void {
    this.room(12);
    this.at = this.buf.writeInt32BE(8, this.at);
    this.int64(micros - PG_EPOCH_US);
  }

  /** A one-dimensional text[] value (empty when there are no items). */
  textArray(items: readonly string[]): void {
    // The length, then the header: dimensions, flags, element type, and the one dimension's size and lower bound.
    this.room(items.length === 0 ? 16 : 24);
    const start = this.at;
    this.at += 4;
    this.at = this.buf.writeInt32BE(items.length === 0 ? 0 : 1, this.at);
    this.at = this.buf.writeInt32BE(0, this.at);
    this.at = this.buf.writeInt32BE(TEXT_OID, this.at);
    if (items.length > 0) {
      this.at = this.buf.writeInt32BE(items.length, this.at);
      this.at = this.buf.writeInt32BE(1, this.at);
    }
    for (const s of items) this.text(s);
    this.buf.writeInt32BE(this.at - start - 4, start);
  }

  null(): void {
    this.room(4);
    this.at = this.buf.writeInt32BE(-1, this.at);
  }

  /** The rows and the end-of-data mark. */
  end(): Buffer {
    this.room(2);
    this.at = this.buf.writeInt16BE(-1, this.at);
    return this.buf.subarray(0, this.at);
  }

  private int64(n: number): void {
    const hi = Math.floor(n / TWO_32);
    this.at = this.buf.writeInt32BE(hi, this.at);
    this.at = this.buf.writeUInt32BE(n - hi * TWO_32, this.at);
  }
}

/**
 * An ISO 8601 time in microseconds since the Unix epoch, NaN when it is not a time: Date.parse keeps
 * milliseconds, the 4th to 6th fraction digits are added.
 */
export function microsOf(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return NaN;
  const fraction = /\.\d{3}(\d{1,3})/.exec(iso);
  return ms * 1000 + (fraction === null ? 0 : Number(fraction[1]!.padEnd(3, '0')));
}
