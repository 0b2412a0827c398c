// Errors of the on-disk store: a file that fails its checks (damaged), and a write or read the
// operating system refused (disk full, permission denied, ...). Stable codes for logs and status.

/** Why a stored file was not usable. */
export type DamageReason =
  /** Shorter than its header or its own length fields say. */
  | 'truncated'
  /** Not one of our files (magic), or a version we do not read. */
  | 'bad-magic'
  | 'bad-version'
  /** The checksum trailer does not match the contents. */
  | 'bad-checksum'
  /** Checksum fine but the contents do not parse or do not agree with themselves or the config. */
  | 'bad-contents';

/** A stored file failed its checks: it is ignored and the zone is transferred again. */
export class StoreDamagedError extends Error {
  readonly code = 'ERR_STORE_DAMAGED';
  constructor(
    readonly reason: DamageReason,
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'StoreDamagedError';
  }
}

/**
 * The operating system refused a store operation. `errno` is its code (ENOSPC, EACCES, EROFS, ...);
 * `op` is what we were doing ('write-copy', 'append-journal', 'write-timers', 'open', ...).
 */
export class StoreIoError extends Error {
  readonly code = 'ERR_STORE_IO';
  constructor(
    readonly op: string,
    readonly file: string,
    readonly errno: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${op} ${file}: ${message}`, options);
    this.name = 'StoreIoError';
  }
}

/** Any thrown value as a StoreIoError (a StoreIoError passes through). */
export function ioError(op: string, file: string, err: unknown): StoreIoError {
  if (err instanceof StoreIoError) return err;
  const e = err as NodeJS.ErrnoException | null;
  const errno = typeof e?.code === 'string' ? e.code : 'EIO';
  return new StoreIoError(op, file, errno, e?.message ?? String(err), { cause: err });
}
