import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError, type ErrorCode } from '../shared/errors.js';

/** Reads a YAML (.yaml, .yml) or JSON (.json) file into a document; `what` names it in errors ("job file"). */
export async function readDocument(file: string, what: string, codes: { unreadable: ErrorCode; invalid: ErrorCode }): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new AppError(codes.unreadable, `cannot read ${what} ${file}: ${reason}`, { cause: err });
  }
  try {
    // yaml is loaded for a YAML file only: `resume` with a JSON account file (or none) starts without it.
    return path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (err) {
    throw new AppError(codes.invalid, `${what} ${file} is not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
}
