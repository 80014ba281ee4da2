// Errors the CLI prints as one line plus a hint, with a meaningful exit code.
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

export class CliError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly exitCode: number;
  constructor(code: string, message: string, hint: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.code = code;
    this.hint = hint;
    this.exitCode = exitCode;
  }
}

/** Any error that carries a code and a hint (ConfigError, PrivilegeError, store errors...). */
export function describeError(err: unknown): { code: string; message: string; hint: string | undefined } {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; hint?: unknown };
    return {
      code: typeof e.code === 'string' ? e.code : 'BH_INTERNAL',
      message: e.message,
      hint: typeof e.hint === 'string' ? e.hint : undefined,
    };
  }
  return { code: 'BH_INTERNAL', message: String(err), hint: undefined };
}
