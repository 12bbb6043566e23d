// Small DOM helpers. API data only ever reaches the page through textContent and attributes.

import { absoluteTime, clock, relativeTime } from './format.js';

/** @param {unknown} value */
const absent = (value) => value === null || value === undefined || value === false;

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, Ui.AttrValue>} [attrs]
 * @param {...Ui.Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs))
    if (!absent(value)) element.setAttribute(name, value === true ? '' : String(value));
  for (const child of children) if (!absent(child)) element.append(/** @type {Node} */ (child));
  return element;
}

/**
 * Only when it changed (as setAttr), so a refresh leaves nodes alone.
 * @param {Element} element
 * @param {string} text
 */
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/**
 * @param {Element} element
 * @param {string} name
 * @param {Ui.AttrValue} value
 */
export function setAttr(element, name, value) {
  if (absent(value)) {
    if (element.hasAttribute(name)) element.removeAttribute(name);
    return;
  }
  const text = value === true ? '' : String(value);
  if (element.getAttribute(name) !== text) element.setAttribute(name, text);
}

/** @param {string} id which the page must have */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/** @param {Element} root @param {string} selector which must match a descendant */
export function part(root, selector) {
  const element = root.querySelector(selector);
  if (!(element instanceof HTMLElement)) throw new Error(`missing ${selector}`);
  return element;
}

/**
 * Updates rows in place (by `data-key`) so that open panels, focus and scroll survive a refresh.
 * @template T
 * @param {HTMLElement} parent
 * @param {readonly T[]} items
 * @param {(item: T) => string} keyOf
 * @param {(item: T) => HTMLElement} create
 * @param {(element: HTMLElement, item: T) => void} update
 */
export function reconcile(parent, items, keyOf, create, update) {
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  for (const child of parent.children)
    if (child instanceof HTMLElement && child.dataset.key !== undefined)
      existing.set(child.dataset.key, child);
  const wanted = new Set(items.map(keyOf));
  for (const [key, element] of existing) if (!wanted.has(key)) element.remove();
  items.forEach((item, index) => {
    const key = keyOf(item);
    let element = existing.get(key);
    if (!element) {
      element = create(item);
      element.dataset.key = key;
    }
    update(element, item);
    const current = parent.children[index];
    if (current !== element) parent.insertBefore(element, current ?? null);
  });
}

/**
 * @param {HTMLElement} element
 * @param {unknown} value what `build()` shows: it only runs when this changed
 * @param {() => (Node | string)[]} build
 */
export function rebuildIfChanged(element, value, build) {
  const signature = JSON.stringify(value);
  if (element.dataset.signature === signature) return;
  element.dataset.signature = signature;
  element.replaceChildren(...build());
}

/**
 * @param {string} name of the list's `${name}-empty` placeholder and `${name}-count`
 * @param {number} count
 * @param {string} emptyText
 * @param {string} [countText]
 */
export function showCount(name, count, emptyText, countText) {
  const empty = byId(`${name}-empty`);
  empty.hidden = count > 0;
  setText(empty, emptyText);
  if (countText !== undefined) setText(byId(`${name}-count`), count === 0 ? '' : countText);
}

/**
 * "12 s ago (14:02:11)", kept right by tickTimes; `relativeOnly` drops the clock.
 * @param {string | null} [iso]
 */
export function timeAgo(iso, relativeOnly = false) {
  const element = h('time', { 'data-rel': relativeOnly });
  if (iso) updateTimeAgo(element, iso);
  return element;
}

/** @param {Element} element @param {number} at @param {number} now */
function timeText(element, at, now) {
  const text = relativeTime(at, now);
  return element.hasAttribute('data-rel') ? text : `${text} (${clock(at, now)})`;
}

/** @param {Element} element @param {string} iso */
export function updateTimeAgo(element, iso) {
  if (element.getAttribute('datetime') === iso) return;
  const at = Date.parse(iso);
  setAttr(element, 'datetime', iso);
  setAttr(element, 'title', absoluteTime(iso));
  setAttr(element, 'data-at', Number.isNaN(at) ? null : at);
  setText(element, Number.isNaN(at) ? iso : timeText(element, at, Date.now()));
}

/** Cheap enough to run each second. */
export function tickTimes(now = Date.now()) {
  for (const element of document.querySelectorAll('time[data-at]'))
    setText(element, timeText(element, Number(element.getAttribute('data-at')), now));
}

/**
 * Keeps (by `data-key`) which <details> were open and what had focus: a refresh undoes nothing.
 * @param {HTMLElement} root
 * @param {Node[]} nodes
 */
export function rebuild(root, nodes) {
  /** @type {Map<string | undefined, boolean>} */
  const open = new Map();
  for (const d of root.querySelectorAll('details')) open.set(d.dataset.key, d.open);
  const active = document.activeElement;
  const focused = active instanceof HTMLElement && root.contains(active) ? active.dataset.key : '';
  root.replaceChildren(...nodes);
  for (const d of root.querySelectorAll('details')) d.open = open.get(d.dataset.key) ?? d.open;
  const again = focused && root.querySelector(`[data-key="${CSS.escape(focused)}"]`);
  if (again instanceof HTMLElement) again.focus();
}

/** @param {string} text said by screen readers */
export function announce(text) {
  const announcer = byId('announcer');
  announcer.textContent = '';
  // A fresh text node after a tick is announced even when the text repeats.
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}
