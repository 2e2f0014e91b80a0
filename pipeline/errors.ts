/**
 * One error class for the whole library. `code` is stable (scripts match on
 * it); `message` says what and where; the original error rides as `cause`.
 * Only `cli.ts` turns codes into exit codes.
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_MANIFEST'
  | 'E_INPUT'
  | 'E_BUDGET'
  | 'E_BALANCE'
  | 'E_PRICE'
  | 'E_API'
  | 'E_AUTH'
  | 'E_FFMPEG'
  | 'E_CACHE'
  | 'E_DEADLINE'
  | 'E_HELD'
  | 'E_REFUSED'
  | 'E_ABORTED'
  | 'E_INTERNAL';

export class DuologueError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DuologueError';
    this.code = code;
  }
}

/**
 * The provider delivered something unusable, or nothing any more (expired
 * output, truncated or wrong file): retrying the same prediction cannot help,
 * only a new render can.
 */
export class OutputError extends DuologueError {
  /** How long the refused clip was, when it could be read (it was billed by that length). */
  readonly deliveredSeconds?: number;
  /**
   * The bytes could not be had (the output host answered 404, or an error
   * page instead of an mp4): the render itself may be fine, so the prediction
   * is kept and fetched again later. False: a readable clip that is wrong
   * (length, missing stream): only a new render can help.
   */
  readonly unavailable: boolean;
  constructor(message: string, options?: { cause?: unknown; deliveredSeconds?: number; unavailable?: boolean }) {
    super('E_API', message, options);
    this.name = 'OutputError';
    this.deliveredSeconds = options?.deliveredSeconds;
    this.unavailable = options?.unavailable ?? false;
  }
}

/** The provider does not know the prediction (deleted after its retention, or a wrong id was attached). */
export class PredictionGoneError extends DuologueError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_API', message, options);
    this.name = 'PredictionGoneError';
  }
}

/**
 * A stop that came while a submit was between attempts, after an answer that
 * proved no task was created (a 429, a refused connection): nothing can have
 * been billed.
 */
export class StoppedBeforeTaskError extends DuologueError {
  readonly taskNotCreated = true;
  constructor(options?: { cause?: unknown }) {
    super('E_ABORTED', 'aborted before the task was created', options);
    this.name = 'StoppedBeforeTaskError';
  }
}

/**
 * The provider refused a submit because the account cannot pay for it
 * (HTTP 402): no task was created. The run submits nothing more; what is in
 * flight is still collected.
 */
export class InsufficientBalanceError extends DuologueError {
  readonly taskNotCreated = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_BALANCE', message, options);
    this.name = 'InsufficientBalanceError';
  }
}

/** A problem found in a manifest or its inputs, positioned in the source. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  code: ErrorCode;
  file: string;
  line?: number;
  col?: number;
  /** `episode/scene`, `episode`, or undefined for manifest-level problems. */
  where?: string;
  message: string;
}

/** Renders `file:LINE:COL episode/scene: message` (parts omitted when unknown). */
export function formatDiagnostic(d: Diagnostic): string {
  let at = d.file;
  if (d.line !== undefined) at += `:${d.line}:${d.col ?? 1}`;
  return `${at}${d.where ? ` ${d.where}` : ''}: ${d.message}`;
}

/** Every error of a load at once: thrown only when at least one error exists. */
export class ManifestErrors extends DuologueError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const code = errors.every((d) => d.code === 'E_INPUT') ? 'E_INPUT' : 'E_MANIFEST';
    super(code, `${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map(formatDiagnostic).join('\n')}`);
    this.name = 'ManifestErrors';
    this.diagnostics = diagnostics;
  }
}

export function isAbort(error: unknown): boolean {
  return (
    (error instanceof DuologueError && error.code === 'E_ABORTED') ||
    (error instanceof Error && error.name === 'AbortError')
  );
}
