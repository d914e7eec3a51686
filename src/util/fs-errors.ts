/**
 * The one place where file-system errors (errno codes) become user errors: one line naming the
 * path, what failed and what to do, with the exit code of DESIGN §10.
 *
 * - reading an input (dataset, config, run folder, CSV): missing or unreadable → 66; a file that
 *   is a folder or a folder that is a file where data said otherwise → 65.
 * - writing an output (--out, output.dir): a place that cannot be written (read-only, permission,
 *   a file where a folder is needed, a name too long) → 64 when it came from a flag, 78 when it
 *   came from the config.
 * - the machine failing under us (disk full, quota, I/O error) → 70, with a message saying it is
 *   not a marginlab bug; finished results are kept and `--resume` goes on.
 */
import { ExitCode, UserError, type ExitCodeValue } from '../errors.js';

export type FsRole = 'input' | 'data' | 'output';

/**
 * where an output path came from: a flag (64), the config's key (78), the default of an unset key (64: the flag
 * overrides it), a command's argument (64: `report <dir>`, which has no --out), a library function's parameter (64)
 */
export type OutSource = 'flag' | 'config' | 'default' | 'argument' | 'api';

export interface FsErrorContext {
  /** the path the operation was about */
  path: string;
  /** what marginlab was doing, e.g. 'create the output folder', 'write a result' */
  action: string;
  role: FsRole;
  /** for outputs: where the path came from ('--out', 'output.dir', an argument); decides 64 or 78 and the hint */
  source?: OutSource;
  /** false: the command has no --resume (import, data synth): the hint does not offer it */
  resume?: false;
  /** for outputs from a flag: the flag the hint names (default --out), e.g. --cache */
  flag?: string;
  /** for outputs: what to do, when the command's own words say it better than the flag's (init: choose another folder) */
  hint?: string;
}

/** the errno code of a system error (ENOENT, ENOSPC, …); undefined for anything else, Node's own ERR_* codes included (ERR_STRING_TOO_LONG is no file-system fault) */
export const errnoOf = (err: unknown): string | undefined => {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
};

const ENV_FAILURES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EFBIG', 'EMFILE', 'ENFILE', 'ENOMEM']);

const WHAT: Record<string, string> = {
  ENOENT: 'does not exist',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder, not a file',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'a name in the path is too long for the file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EFBIG: 'file too large for the file system',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOMEM: 'out of memory',
  ELOOP: 'too many symbolic links',
  ENOTEMPTY: 'folder not empty',
  EBUSY: 'busy',
  EXDEV: 'crosses file systems',
};

/** A file-system error as a UserError; anything that is not an errno error is returned as is. */
export function fsError(err: unknown, ctx: FsErrorContext): unknown {
  if (err instanceof UserError) return err;
  const code = errnoOf(err);
  if (!code) return err;
  const what = code === 'ENOENT' && ctx.role === 'output' ? 'the file system will not create it there (a read-only or virtual file system, or a folder removed meanwhile)' : (WHAT[code] ?? code);
  let exit: ExitCodeValue;
  let hint: string;
  if (ENV_FAILURES.has(code)) {
    exit = ExitCode.INTERNAL;
    hint =
      ctx.role === 'output'
        ? `free space (or fix the device) and ${ctx.source === 'api' ? 'call it again' : 'run the command again'}${ctx.resume === false || ctx.source === 'api' ? '' : ' (a run keeps its finished results: use --resume)'}; this is not a marginlab bug`
        : 'fix the device and run the command again; this is not a marginlab bug';
  } else if (ctx.role === 'output') {
    exit = ctx.source === 'config' ? ExitCode.CONFIG : ExitCode.USAGE;
    hint =
      ctx.hint ??
      (ctx.source === 'api'
        ? 'pass a folder marginlab can write'
        : ctx.source === 'argument'
        ? 'make it writable, or copy the run folder somewhere writable and run the command on the copy'
        : ctx.source === 'default'
          ? 'choose a writable folder with --out, or set output.dir in the config (the default is reports/<name> beside it)'
          : `choose a writable folder${ctx.source === 'config' ? ' (config key output.dir, or --out)' : ` with ${ctx.flag ?? '--out'}`}`);
  } else if (ctx.role === 'data' && (code === 'EISDIR' || code === 'ENOTDIR' || code === 'ELOOP')) {
    exit = ExitCode.DATA;
    hint = 'fix the entry that names it';
  } else {
    exit = ExitCode.NO_INPUT;
    hint = code === 'ENOENT' ? 'check the path' : 'check the path and its permissions';
  }
  return new UserError(`cannot ${ctx.action} ${ctx.path}: ${what} (${code}); ${hint}`, exit);
}

/** Run `fn`; a file-system error it throws becomes a UserError (see fsError). */
export function withFsErrors<T>(ctx: FsErrorContext, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fsError(err, ctx);
  }
}
