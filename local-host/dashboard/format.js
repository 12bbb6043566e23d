// Times, durations and ids as people read them. No-break spaces keep a number with its unit.

/** "12 s ago", "3 min ago", "in 5 s". @param {number} then ms @param {number} now ms */
export function relativeTime(then, now) {
  const seconds = Math.round((now - then) / 1000);
  const future = seconds < 0;
  const abs = Math.abs(seconds);
  if (abs < 2) return future ? 'now' : 'just now';
  /** @type {string} */
  let amount;
  if (abs < 60) amount = `${abs}\u00a0s`;
  else if (abs < 3600) amount = `${Math.floor(abs / 60)}\u00a0min`;
  else if (abs < 86_400) amount = `${Math.floor(abs / 3600)}\u00a0h`;
  else amount = `${Math.floor(abs / 86_400)}\u00a0d`;
  return future ? `in ${amount}` : `${amount} ago`;
}

/** "850 ms", "1.2 s", "2 min 5 s". @param {number | null | undefined} ms */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)}\u00a0ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}\u00a0s`;
  return `${Math.floor(seconds / 60)}\u00a0min ${Math.round(seconds % 60)}\u00a0s`;
}

/** A timeout or delay in seconds: "30 s", "1.5 s", "2 min". @param {number} seconds */
export function formatSeconds(seconds) {
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}\u00a0min`;
  return `${Number(seconds.toFixed(2))}\u00a0s`;
}

/** "14:02:11", or "12 May, 14:02" when not today. @param {number} at @param {number} now */
export function clock(at, now) {
  const date = new Date(at);
  return date.toDateString() === new Date(now).toDateString()
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString([], {
        day: 'numeric',
        month: 'short',
        hour: '2-digit',
        minute: '2-digit',
      });
}

/** "83 %"; "—" for null. @param {number | null} rate */
export const percent = (rate) => (rate === null ? '—' : `${Math.round(rate * 100)}\u00a0%`);

/** @param {string} iso */
export function absoluteTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** The first block of a UUID tells runs apart on screen. @param {string} id */
export const shortId = (id) => (id.length > 8 ? id.slice(0, 8) : id);

/** @param {number} count @param {string} one @param {string} [many] */
export const plural = (count, one, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/** Cut short when huge, so one step cannot freeze the page. @param {unknown} value */
export function prettyJson(value, limit = 20_000) {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  return text.length > limit
    ? `${text.slice(0, limit)}\n… (${text.length - limit} more characters)`
    : text;
}
