/**
 * A time as protobuf's JSON mapping writes a Timestamp (what `mlflow server` answers and the client
 * parses): no fraction for whole seconds, else milliseconds, where `toISOString` always writes them.
 *
 * The date and minute come from toISOString, remembered for the last minute formatted: a page of
 * traces or runs mostly shares its minutes, and toISOString was a tenth of a trace search's Node
 * time (docs/bench.md). The seconds and milliseconds are written here.
 */
export function protoTimestamp(ms: number): string {
  const minute = Math.floor(ms / 60_000);
  if (minute !== lastMinute) {
    // `YYYY-MM-DDTHH:MM:`; a year before 0 or past 9999 is written with a sign and six digits: whole.
    const iso = new Date(minute * 60_000).toISOString();
    if (iso.length !== 24) return wholeIso(ms);
    lastPrefix = iso.slice(0, 17);
    lastMinute = minute;
  }
  const rest = ms - minute * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${lastPrefix}${seconds < 10 ? '0' : ''}${seconds}${millis === 0 ? '' : `.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}`}Z`;
}

let lastMinute = NaN;
let lastPrefix = '';

function wholeIso(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
