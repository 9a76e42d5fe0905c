// Download headers as MLflow's server writes them (mlflow/utils/mime_type_utils.py and
// handlers._content_disposition_attachment): the client and MLflow's own tests check them.

const TEXT_EXTENSIONS = new Set([
  'txt', 'log', 'err', 'cfg', 'conf', 'cnf', 'cf', 'ini', 'properties', 'prop', 'hocon', 'toml', 'yaml', 'yml',
  'xml', 'json', 'js', 'py', 'py3', 'csv', 'tsv', 'md', 'rst', 'ipynb', 'MLmodel', 'mlproject',
]);

// The subset of Python's mimetypes table that artifacts use; anything else is a byte stream.
const BY_EXTENSION: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', bmp: 'image/bmp', webp: 'image/webp',
  svg: 'image/svg+xml', tif: 'image/tiff', tiff: 'image/tiff', ico: 'image/vnd.microsoft.icon',
  html: 'text/html', htm: 'text/html', css: 'text/css', pdf: 'application/pdf',
  zip: 'application/zip', gz: 'application/gzip', tar: 'application/x-tar', bz2: 'application/x-bzip2',
  mp3: 'audio/mpeg', wav: 'audio/x-wav', ogg: 'audio/ogg', mp4: 'video/mp4', webm: 'video/webm',
};

export function guessContentType(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  const ext = dot > 0 ? fileName.slice(dot + 1) : fileName;
  if (TEXT_EXTENSIONS.has(ext)) return 'text/plain';
  return BY_EXTENSION[ext.toLowerCase()] ?? 'application/octet-stream';
}

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z|~]+$/;

/** `attachment; filename=…`, with an RFC 5987 `filename*` for names that are not ASCII. */
export function contentDisposition(fileName: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = fileName.replace(/[\u0000-\u001f\u007f]/g, '');
  if (/^[\x20-\x7e]*$/.test(safe)) return `attachment; filename=${quoteHeaderValue(safe)}`;
  const ascii = safe.normalize('NFKD').replace(/[^\x20-\x7e]/g, '') || 'download';
  const encoded = encodeURIComponent(safe).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename=${quoteHeaderValue(ascii)}; filename*=UTF-8''${encoded}`;
}

function quoteHeaderValue(value: string): string {
  if (!value) return '""';
  if (TOKEN.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
