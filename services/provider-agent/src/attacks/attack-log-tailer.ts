import { open, stat } from 'node:fs/promises';

/** The most read in one go; a longer line than this is no attack event and is skipped. */
export const MAX_READ_BYTES = 1024 * 1024;

export interface TailedLines {
  /** Complete lines (without their newline), in file order; blank ones left out. */
  lines: string[];
  /** Why reading started over from the beginning of the file, when it did. */
  restarted?: 'truncated' | 'replaced';
  /** Bytes of an overlong line that were skipped. */
  skippedBytes: number;
  /** More complete lines may follow at once (a read takes at most MAX_READ_BYTES). */
  more?: boolean;
}

/**
 * Follows a JSON-lines file an intrusion-detection system appends to. Each `read` returns the
 * complete lines written since the last one (at most MAX_READ_BYTES of them: `more` says to read
 * again); a last line without its newline yet is left for the
 * read that finds it complete. The position is kept in memory only: a new agent reads the file
 * from the start (the node de-duplicates events by id). A file that shrank (truncated) or was
 * replaced (another inode: rotated) is read again from its start.
 */
export class AttackLogTailer {
  private offset = 0;
  private inode: number | undefined;
  /** Inside a line longer than MAX_READ_BYTES: dropped up to its newline. */
  private skipping = false;

  constructor(
    readonly path: string,
    private readonly maxReadBytes: number = MAX_READ_BYTES,
  ) {}

  /** The byte position up to which the file has been read. */
  get position(): number {
    return this.offset;
  }

  async read(): Promise<TailedLines> {
    const result: TailedLines = { lines: [], skippedBytes: 0 };
    let stats;
    try {
      stats = await stat(this.path);
    } catch (error) {
      // Not there (yet, or between a rotation's rename and the new file): nothing to read.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return result;
      throw error;
    }
    if (this.inode !== undefined && stats.ino !== this.inode) {
      result.restarted = 'replaced';
      this.restart();
    } else if (stats.size < this.offset) {
      result.restarted = 'truncated';
      this.restart();
    }
    this.inode = stats.ino;
    if (stats.size === this.offset) return result;
    const file = await open(this.path, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(this.maxReadBytes, stats.size - this.offset));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, this.offset);
      const chunk = buffer.subarray(0, bytesRead);
      let start = 0;
      for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
        if (this.skipping) {
          result.skippedBytes += newline - start;
          this.skipping = false;
        } else {
          const line = chunk.toString('utf8', start, newline).replace(/\r$/, '');
          if (line.trim() !== '') result.lines.push(line);
        }
        start = newline + 1;
      }
      if (start === 0 && bytesRead === this.maxReadBytes) {
        // A whole read without a newline: no attack event is that long.
        this.skipping = true;
        result.skippedBytes += bytesRead;
        start = bytesRead;
      }
      // What follows the last newline is a line still being written: read again once complete.
      this.offset += start;
      result.more = start > 0 && this.offset < stats.size;
    } finally {
      await file.close();
    }
    return result;
  }

  private restart(): void {
    this.offset = 0;
    this.skipping = false;
  }
}
