// The one error type. Every failure a client can cause is an MlflowError carrying an MLflow error code;
// the HTTP status comes from the code, as in mlflow/exceptions.py, because the client branches on both.
export const ERROR_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  // MLflow maps INVALID_STATE to 500; the client only reads the code, and Cairn never answers 500
  // for a request it refuses.
  INVALID_STATE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  RESOURCE_CONFLICT: 409,
  REQUEST_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Sent with every 503: when to come back. Both real clients retry a 503 with their own backoff. */
export const RETRY_AFTER_SECONDS = '1';

export class MlflowError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MlflowError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toJSON(): { error_code: string; message: string } {
    return { error_code: this.code, message: this.message };
  }
}

export const invalidParam = (message: string) => new MlflowError('INVALID_PARAMETER_VALUE', message);
export const notFound = (message: string) => new MlflowError('RESOURCE_DOES_NOT_EXIST', message);
export const alreadyExists = (message: string) => new MlflowError('RESOURCE_ALREADY_EXISTS', message);
