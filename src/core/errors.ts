// One error type for everything a user can fix (a bad file, contract or option). The CLI maps it
// to exit 3 with one line on stderr; the queue maps it to a job that fails without retrying.

export class InputError extends Error {
  /** The file, column or option the message is about. */
  readonly subject: string | undefined;

  constructor(message: string, options: { subject?: string; cause?: unknown } = {}) {
    super(options.subject ? `${options.subject}: ${message}` : message, { cause: options.cause });
    this.name = 'InputError';
    this.subject = options.subject;
  }
}

export function isInputError(error: unknown): error is InputError {
  return error instanceof InputError;
}

const REDIS_CONNECTION_ERRORS = new Set(['MaxRetriesPerRequestError', 'ConnectionClosedError']);

/**
 * A system error (ENOSPC, EIO, ECONNRESET, EACCES, ...) or a lost Redis connection, anywhere in
 * the cause chain: trouble that may pass, unlike bad input.
 */
export function isIoError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    if (isInputError(current)) return false;
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
    if (REDIS_CONNECTION_ERRORS.has(current.name) || /Connection is closed/.test(current.message)) return true;
  }
  return false;
}

/** The first line of any thrown value, for one-line error output. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0]!.trim();
}
