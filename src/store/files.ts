// Durable file writes for the store: a new version of a file is written to a temp file in the same
// directory, fsync'd, renamed over the old one, and the directory fsync'd (so the rename itself
// survives a power cut). A crash at any step leaves either the old file or the new one, plus at
// worst a temp file, which the next start removes. Journal appends are positional writes + fsync.
//
// The file system is an interface so tests can fail any single step (ENOSPC, EACCES, a "crash").

import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { ioError } from './errors.js';

/** What the store needs of an open file (a fs/promises FileHandle fits). */
export interface StoreFile {
  write(buffer: Buffer, offset: number, length: number, position: number | null): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  truncate(len?: number): Promise<void>;
  close(): Promise<void>;
}

/** What the store needs of the file system (node:fs/promises fits; tests wrap it to inject faults). */
export interface StoreFs {
  mkdir(path: string, options: { recursive: true; mode: number }): Promise<unknown>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  open(path: string, flags: string, mode?: number): Promise<StoreFile>;
}

export const nodeFs: StoreFs = {
  mkdir: (path, options) => fsp.mkdir(path, options),
  readdir: (path) => fsp.readdir(path),
  readFile: (path) => fsp.readFile(path),
  unlink: (path) => fsp.unlink(path),
  rename: (from, to) => fsp.rename(from, to),
  open: (path, flags, mode) => fsp.open(path, flags, mode),
};

/** Suffix of the temp files; anything ending in it is ours and a leftover at start. */
export const TMP_SUFFIX = '.tmp';
/** Mode of the files we write (the directory is 0750). */
export const FILE_MODE = 0o640;

/** Write all of `buf` at `position` (a short write is continued, as write(2) allows one). */
export async function writeAll(fh: StoreFile, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
    done += bytesWritten;
  }
}

/** fsync a directory, so the renames and creations in it are durable. */
export async function syncDir(fs: StoreFs, dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replace `dir/name` with the concatenation of `chunks`, atomically and durably. Returns the octets
 * written. On failure the old file is untouched, the temp file is removed (best effort), and a
 * StoreIoError says which step failed. Chunks are written as they come, so a generator that encodes
 * a big zone does its work a chunk at a time between the writes.
 */
export async function writeAtomic(fs: StoreFs, dir: string, name: string, chunks: Iterable<Buffer>, op: string): Promise<number> {
  const target = join(dir, name);
  const tmp = target + TMP_SUFFIX;
  let fh: StoreFile | undefined;
  let size = 0;
  try {
    fh = await fs.open(tmp, 'w', FILE_MODE);
    for (const chunk of chunks) {
      await writeAll(fh, chunk, size);
      size += chunk.length;
    }
    await fh.sync();
    const f = fh;
    fh = undefined;
    await f.close();
    await fs.rename(tmp, target);
  } catch (err) {
    if (fh !== undefined) await fh.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw ioError(op, target, err);
  }
  try {
    await syncDir(fs, dir);
  } catch (err) {
    throw ioError(`${op} (directory fsync)`, dir, err);
  }
  return size;
}

/** The file's contents, or null when it does not exist. */
export async function readIfExists(fs: StoreFs, path: string, op: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError(op, path, err);
  }
}
