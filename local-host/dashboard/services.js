// The services and their live health.

import { byId, h, part, reconcile, setAttr, setText, showCount } from './dom.js';
import { formatDuration, plural } from './format.js';
import { makeStatus, pill, SERVICE_STATUS, updatePill } from './status.js';

/** Only http(s) URLs become links, whatever the config allows. */
const SAFE_URL = /^https?:\/\//i;

/** @param {Api.Service} _service */
function create(_service) {
  return h(
    'li',
    { class: 'service' },
    h(
      'div',
      { class: 'service-id' },
      h('h3', { class: 'service-name' }),
      h('code', { class: 'service-key' }),
    ),
    h('a', { class: 'service-url', rel: 'noreferrer' }),
    h('p', { class: 'service-desc' }),
    h('div', { class: 'service-health' }, pill(), h('span', { class: 'latency' })),
    h('p', { class: 'service-error' }),
  );
}

/** @param {HTMLElement} row @param {Api.Service} service */
function update(row, service) {
  const status = SERVICE_STATUS[service.status] ?? makeStatus('warn', '?', service.status);
  setAttr(row, 'data-status', service.status);
  setText(part(row, '.service-name'), service.name);
  setText(part(row, '.service-key'), service.key);
  const link = part(row, '.service-url');
  setText(link, service.url);
  setAttr(link, 'href', SAFE_URL.test(service.url) ? service.url : null);
  const desc = part(row, '.service-desc');
  setText(desc, service.description);
  desc.hidden = service.description === '';
  const health = part(row, '.service-health');
  updatePill(part(health, '.pill'), status);
  setAttr(
    health,
    'title',
    service.error ?? `${status.label} in ${formatDuration(service.latency_ms)}`,
  );
  setText(part(health, '.latency'), formatDuration(service.latency_ms));
  const error = part(row, '.service-error');
  setText(error, service.error ?? '');
  error.hidden = !service.error;
}

/** @param {readonly Api.Service[]} services */
export function renderServices(services) {
  reconcile(byId('service-list'), services, (s) => s.key, create, update);
  const healthy = services.filter((s) => s.status === 'healthy').length;
  showCount(
    'services',
    services.length,
    'No services are configured. Add a services: section to .aegis.yaml (see examples/demo.aegis.yaml).',
    `${healthy} of ${plural(services.length, 'service')} healthy`,
  );
}
