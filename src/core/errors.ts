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

/** The first line of any thrown value, for one-line error output. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0]!.trim();
}
