// Log lines must never carry a secret, even inside an error message a library wrote: a database
// URI's password, credentials in an Authorization header, an API key, a presigned URL's signature
// or a W&B upload token. Fields by those names are removed by the logger (REDACTED_FIELDS); text
// (error messages, stacks) passes through scrubSecrets first.

/** Field paths pino blanks in every line, wherever a caller puts them. */
export const REDACTED_FIELDS = [
  'password',
  'authorization',
  'apiKey',
  'api_key',
  'token',
  'secret',
  '*.password',
  '*.authorization',
  '*.Authorization',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.secret',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

const SCRUBS: [RegExp, string][] = [
  // scheme://user:password@host -> scheme://user:***@host (Postgres URIs, S3 endpoints with userinfo)
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]*@/gi, '$1***@'],
  // Authorization header values: Basic <base64>, Bearer <token>
  [/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/g, '$1 ***'],
  // Presigned URL query parameters (AWS SigV4 and V2, GCS, Azure SAS)
  [/([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId|X-Goog-Signature|sig)=)[^&\s"']+/gi, '$1***'],
  // W&B upload and download URLs carry their grant in the path
  [/(\/wandb-(?:upload|download|artifact-upload|artifact-part|artifact-file|artifact-manifest)\/)[^/?\s"']+/g, '$1***'],
  // Cairn API keys as `cairn keys create` prints them
  [/\bcairn-[0-9a-f]{40}\b/g, 'cairn-***'],
];

// Most text holds none of the shapes above: one test finds those, so an access line costs one regex a field.
const MAYBE_SECRET = /:\/\/|basic|bearer|[?&][\w-]+=|\/wandb-|cairn-/i;

export function scrubSecrets(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of SCRUBS) out = out.replace(pattern, replacement);
  return out;
}
