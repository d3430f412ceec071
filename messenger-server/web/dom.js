// @ts-check
// Building blocks of the page shared by the views: elements, icons, avatars, toasts, a dialog.
// User data only ever reaches the page through text nodes and textContent, never as HTML.

/**
 * The element matching `sel`; the page's markup is fixed, so a missing one is a bug.
 * @param {string} sel
 * @param {ParentNode} [root]
 * @returns {HTMLElement}
 */
export function $(sel, root = document) {
  const el = root.querySelector(sel);
  if (!(el instanceof HTMLElement)) throw new Error(`no element ${sel}`);
  return el;
}

/**
 * The element matching `sel`, checked to be a `type` (an input, a form, a dialog…).
 * @template {HTMLElement} T
 * @param {string} sel
 * @param {{new (): T, prototype: T}} type
 * @param {ParentNode} [root]
 * @returns {T}
 */
export function $as(sel, type, root = document) {
  const el = $(sel, root);
  if (!(el instanceof type)) throw new Error(`${sel} is not a ${type.name}`);
  return el;
}

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * Builds an element. Text children become text nodes (never HTML); `on…` props are listeners;
 * `text` sets textContent; null, undefined and false leave an attribute out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
// 24×24 stroke icons: "M…" is a path, "c:x,y,r" a circle.
const ICONS = {
  back: ['M15 18l-6-6 6-6'],
  compose: ['M21 12a8.5 8.5 0 0 1-12.3 7.6L3 21l1.4-5.2A8.5 8.5 0 1 1 21 12z', 'M12 8.5v7', 'M8.5 12h7'],
  signout: ['M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4', 'M16 17l5-5-5-5', 'M21 12H9'],
  info: ['c:12,12,9', 'M12 16v-4.5', 'M12 8h.01'],
  send: ['M4 12l16-8-6 16-2.5-6.5z', 'M11.5 13.5L20 4'],
  clock: ['c:12,12,8', 'M12 8v4l2.5 1.5'],
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  checks: ['M2 12.5l4.5 4.5L16 7.5', 'M11.5 16.5l.5.5L21.5 7.5'],
  alert: ['c:12,12,9', 'M12 7.5v5.5', 'M12 16.5h.01'],
  edit: ['M12 20h8', 'M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z'],
  trash: ['M4 7h16', 'M9 7V4.5h6V7', 'M18 7l-.9 12.1a2 2 0 0 1-2 1.9H8.9a2 2 0 0 1-2-1.9L6 7', 'M10 11v6', 'M14 11v6'],
  close: ['M18 6L6 18', 'M6 6l12 12'],
  search: ['c:11,11,7', 'M20 20l-4-4'],
  down: ['M12 5v14', 'M18 13l-6 6-6-6'],
  users: ['M16 20v-1.5a4 4 0 0 0-4-4H7a4 4 0 0 0-4 4V20', 'c:9.5,7.5,3.5', 'M21 20v-1.5a4 4 0 0 0-3-3.8', 'M15.5 4.2a3.5 3.5 0 0 1 0 6.6'],
  retry: ['M3 12a9 9 0 0 1 15.5-6.3L21 8', 'M21 3v5h-5', 'M21 12a9 9 0 0 1-15.5 6.3L3 16', 'M3 21v-5h5'],
};
/** @typedef {keyof typeof ICONS} IconName */

/**
 * @param {IconName} name
 * @param {string} [cls]
 */
export function icon(name, cls = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of ICONS[name]) {
    let shape;
    if (d.startsWith('c:')) {
      const [cx, cy, r] = d.slice(2).split(',');
      shape = document.createElementNS(SVG_NS, 'circle');
      shape.setAttribute('cx', cx);
      shape.setAttribute('cy', cy);
      shape.setAttribute('r', r);
    } else {
      shape = document.createElementNS(SVG_NS, 'path');
      shape.setAttribute('d', d);
    }
    svg.append(shape);
  }
  return svg;
}

/**
 * @param {Element} el
 * @param {IconName} name
 */
export function setIcon(el, name) {
  el.replaceChildren(icon(name));
}

/** @param {string} name */
function initials(name) {
  const parts = String(name || '?').split(/[\s._]+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0][0] + parts[1][0] : String(name || '?').slice(0, 2);
  return s.toUpperCase();
}

/** A stable small number for a name, to pick its colour. @param {string} s */
export function hashOf(s) {
  let x = 0;
  for (const ch of String(s)) x = (x * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return x;
}

/**
 * Fills an avatar element: initials on a colour picked from the name.
 * @param {HTMLElement} el
 * @param {string} name
 * @param {boolean} [group]
 */
export function paintAvatar(el, name, group = false) {
  el.textContent = '';
  for (const c of [...el.classList]) if (/^c\d$/.test(c)) el.classList.remove(c);
  el.classList.add('avatar', `c${hashOf(name) % 8}`);
  el.classList.toggle('group', group);
  el.append(group ? icon('users', 'icon avatar-icon') : initials(name));
}

/** Grows a textarea with its text, up to a limit. @param {HTMLTextAreaElement} ta */
export function autosize(ta) {
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight, 180)}px`;
}

/** A mouse or trackpad: focusing the composer will not pop up an on-screen keyboard. */
export const finePointer = matchMedia('(pointer: fine)');

/**
 * @param {string} text
 * @param {'info' | 'error'} [kind]
 */
export function toast(text, kind = 'info') {
  // The same news twice at once (two sockets telling one thing) is said once.
  for (const shown of $('#toasts').children) if (shown.textContent === text && !shown.classList.contains('leaving')) return;
  const el = h('div', { class: `toast ${kind}`, 'data-testid': 'toast' }, text);
  $('#toasts').append(el);
  setTimeout(() => {
    el.classList.add('leaving');
    setTimeout(() => el.remove(), 300);
  }, 4000);
}

/** Removes every toast (signing out). */
export function clearToasts() {
  $('#toasts').replaceChildren();
}

/**
 * Asks to confirm a destructive action; resolves true for OK. Focus returns where it was.
 * @param {{title: string, text?: string, ok?: string}} what
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, text, ok = 'Delete' }) {
  const dlg = $as('#confirm-dialog', HTMLDialogElement);
  const okBtn = $('#confirm-ok');
  const cancelBtn = $('#confirm-cancel');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text || '';
  okBtn.textContent = ok;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    /** @param {boolean} value */
    const done = (value) => {
      okBtn.onclick = null;
      cancelBtn.onclick = null;
      dlg.oncancel = null;
      if (dlg.open) dlg.close();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(value);
    };
    okBtn.onclick = () => done(true);
    cancelBtn.onclick = () => done(false);
    dlg.oncancel = (e) => {
      e.preventDefault();
      done(false);
    };
    dlg.showModal();
  });
}
