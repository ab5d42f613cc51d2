// Which failures a job retries. I/O errors (a full disk, a file server away, Redis dropping a
// connection) may pass, so they are retried with exponential backoff. Bad input (InputError)
// and programming errors fail the same way every time: they become BullMQ's UnrecoverableError,
// which fails the job at once and keeps the reason.
import { UnrecoverableError } from 'bullmq';
import { isInputError, isIoError } from '../core/errors.js';

/** The error a processor throws: as is when a retry may help, else unrecoverable with the same message. */
export function jobError(error: unknown): Error {
  if (error instanceof UnrecoverableError) return error;
  if (isIoError(error)) return error as Error;
  const message = error instanceof Error ? error.message : String(error);
  const unrecoverable = new UnrecoverableError(isInputError(error) ? message : `internal error: ${message}`);
  if (error instanceof Error && error.stack) unrecoverable.stack = error.stack;
  return unrecoverable;
}
