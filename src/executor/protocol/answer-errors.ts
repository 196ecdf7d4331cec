import { type ErrorCode, SluiceError } from '../../core/errors.js';
import { NETWORK_REASONS } from '../../core/network-reasons.js';
import { apiErrorSchema } from '../../protocol/api-error.js';
import type { HttpAnswer } from './http-transport.js';
import { RetryAfterError } from './retry-loop.js';

/**
 * How the protocol client turns a refused answer or a failed exchange into a SluiceError: the
 * error code callers branch on (`lease_lost` for 409, `protocol_unsupported` for 426, ...), the
 * Scheduler's own message, and whether trying again may help (network failures, 408, 429 and
 * 5xx may; other 4xx do not).
 */

/** API error codes kept as the Scheduler sent them; any other maps from the HTTP status. */
const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'request_invalid',
  'auth_invalid',
  'auth_forbidden',
  'rate_limited',
  'task_not_found',
  'lease_lost',
  'lease_not_held',
  'protocol_unsupported',
  'executor_unknown',
]);

const CERTIFICATE_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

/** The error for an answer with a status other than the one expected. */
export function answerError(schedulerUrl: string, what: string, answer: HttpAnswer): SluiceError {
  const status = answer.status;
  const said = apiErrorSchema.safeParse(parseJson(answer.text));
  const message = said.success
    ? `The Scheduler at ${schedulerUrl} refused ${what}: ${said.data.error.message}`
    : `The Scheduler at ${schedulerUrl} answered ${what} with HTTP ${status}`;
  const retryable = status === 408 || status === 429 || status >= 500;
  const error = new SluiceError(codeOf(said.success ? said.data.error.code : '', status), message, {
    retryable,
  });
  const retryAfterSec = Number(headerOf(answer, 'retry-after'));
  if (retryable && Number.isInteger(retryAfterSec) && retryAfterSec > 0) {
    return new RetryAfterError(error, retryAfterSec * 1000);
  }
  return error;
}

/** The error for an exchange that got no answer: retryable, unless the transport said not. */
export function exchangeError(schedulerUrl: string, what: string, error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  // A certificate that was refused stays refused: trying again cannot help.
  const isCertificate = CERTIFICATE_CODE.test(String((error as { code?: unknown }).code ?? ''));
  return new SluiceError(
    'state_unreachable',
    `Cannot reach the Scheduler at ${schedulerUrl} (${what}): ${networkReason(error)}; ` +
      'check SLUICE_URL, the proxy variables and that the Scheduler runs',
    { retryable: !isCertificate },
  );
}

/** The JSON of an answer's body, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function codeOf(code: string, status: number): ErrorCode {
  if (KNOWN_CODES.has(code)) return code as ErrorCode;
  if (status === 401) return 'auth_invalid';
  if (status === 403) return 'auth_forbidden';
  if (status === 404) return 'task_not_found';
  if (status === 408) return 'state_unreachable';
  if (status === 409) return 'lease_lost';
  if (status === 426) return 'protocol_unsupported';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'state_error';
  return 'request_invalid';
}

function headerOf(answer: HttpAnswer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Why an exchange failed, in plain words; TLS failures say how to trust a private CA. */
function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'it did not answer in time';
  const code = String((error as { code?: unknown }).code ?? '');
  const known = NETWORK_REASONS[code];
  if (known !== undefined) return known;
  if (CERTIFICATE_CODE.test(code)) {
    return (
      `its TLS certificate was not accepted (${code}); if a private CA signed it, name the ` +
      "CA's certificate file in SLUICE_CA_FILE"
    );
  }
  return error instanceof Error ? error.message : String(error);
}
