// The event stream (SSE) through fetch(): EventSource sends no X-API-Key, nor tells 501 from a drop.

import { keyHeader } from './api.js';

/**
 * `onLive` says when the stream opens and drops; a 501 or 404 ends it for good (the page polls).
 * @param {(event: Api.StoredEvent) => void} onEvent
 * @param {(live: boolean) => void} onLive
 */
export function follow(onEvent, onLive) {
  let after = /** @type {number | null} */ (null);
  async function connect() {
    // Soon after a drop (the stream asks for 1 s) or a 401/403 (a key may come); else slower.
    let delay = 5000;
    try {
      const response = await fetch(`api/events/stream${after === null ? '' : `?after=${after}`}`, {
        cache: 'no-store',
        headers: { Accept: 'text/event-stream', ...keyHeader() },
      });
      if (response.status === 501 || response.status === 404) {
        onLive(false);
        return;
      }
      if (response.status === 401 || response.status === 403) delay = 1000;
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      delay = 1000;
      onLive(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const messages = (buffer + value).replace(/\r\n?/g, '\n').split('\n\n');
        buffer = messages.pop() ?? '';
        for (const message of messages) {
          let data = '';
          for (const line of message.split('\n')) {
            if (line.startsWith('id:')) after = Number(line.slice(3));
            else if (line.startsWith('data:')) data += line.slice(5);
          }
          if (data) onEvent(JSON.parse(data));
        }
      }
    } catch {
      // Dropped, refused or not JSON: reconnect below.
    }
    onLive(false);
    setTimeout(connect, delay);
  }
  void connect();
}
