/**
 * Stored data failed a check (CRC, magic, length, ordering) in a way that cannot be a
 * torn final write. The message names the file, the byte offset, what is wrong and what
 * the operator can do; `file` and `offset` carry the same facts for programs.
 */
export class CorruptionError extends Error {
  override name = 'CorruptionError';
  readonly file: string;
  readonly offset: number;

  constructor(message: string, file: string, offset: number) {
    super(message);
    this.file = file;
    this.offset = offset;
  }
}
