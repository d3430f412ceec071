// @ts-check
// The message list is one tab stop (a roving tabindex): one message at a time is in the tab
// order, arrow keys move between messages, and a message's own buttons join the tab order only
// while focus is on that message. Without it, Tab walked through two buttons of every message of
// ours before reaching the composer.

/** What the list asks of the conversation. @typedef {object} RovingActions
 * @property {(el: HTMLElement) => void} activate Enter on a message (edit it, if ours)
 * @property {(el: HTMLElement) => void} remove Delete on a message (delete it, if ours)
 * @property {() => void} top ArrowUp on the oldest message held (load older ones)
 * @property {() => void} leave Escape (back to the composer)
 */

const ITEM = '.msg';
const CONTROLS = 'button, a[href], input, textarea';

export class RovingList {
  /**
   * @param {HTMLElement} list the scrolling container of the messages
   * @param {RovingActions} actions
   */
  constructor(list, actions) {
    this.list = list;
    this.actions = actions;
    /** The message in the tab order. @type {HTMLElement | null} */
    this.current = null;
    list.addEventListener('keydown', (e) => this.onKey(e));
    list.addEventListener('focusin', (e) => {
      const item = this.itemOf(e.target);
      if (item) this.setCurrent(item, true);
    });
    list.addEventListener('focusout', (e) => {
      const item = this.itemOf(e.target);
      if (item && item !== this.itemOf(e.relatedTarget)) controls(item, false);
    });
  }

  /** @returns {HTMLElement[]} */
  items() {
    return /** @type {HTMLElement[]} */ ([...this.list.querySelectorAll(ITEM)]);
  }

  /** @param {EventTarget | null} target */
  itemOf(target) {
    if (!(target instanceof Element)) return null;
    const item = target.closest(ITEM);
    return item instanceof HTMLElement && this.list.contains(item) ? item : null;
  }

  /**
   * After a redraw: exactly one message in the tab order (the current one while it is still
   * there, else the newest), and no buttons of a message focus is not on.
   */
  sync() {
    const items = this.items();
    if (!this.current || !this.current.isConnected) this.current = items.at(-1) ?? null;
    const inside = this.itemOf(document.activeElement);
    for (const el of items) {
      const want = el === this.current ? '0' : '-1';
      if (el.getAttribute('tabindex') !== want) el.setAttribute('tabindex', want);
      controls(el, el === inside);
    }
  }

  /** Forgets the current message (another chat opens). */
  reset() {
    this.current = null;
  }

  /**
   * @param {HTMLElement} item
   * @param {boolean} focused focus is on it (or inside it) now
   */
  setCurrent(item, focused) {
    if (this.current && this.current !== item) this.current.setAttribute('tabindex', '-1');
    this.current = item;
    item.setAttribute('tabindex', '0');
    controls(item, focused);
  }

  /** @param {HTMLElement} item */
  focus(item) {
    this.setCurrent(item, true);
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: 'nearest' });
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    const item = this.itemOf(e.target);
    if (!item || e.altKey || e.ctrlKey || e.metaKey) return;
    const onItem = e.target === item;
    const items = this.items();
    const at = items.indexOf(item);
    /** @type {HTMLElement | undefined} */
    let to;
    switch (e.key) {
      case 'ArrowUp':
        if (at === 0) this.actions.top();
        to = items[at - 1];
        break;
      case 'ArrowDown':
        to = items[at + 1];
        break;
      case 'Home':
        if (onItem) to = items[0];
        break;
      case 'End':
        if (onItem) to = items.at(-1);
        break;
      case 'Enter':
        if (onItem) this.actions.activate(item);
        break;
      case 'Delete':
        if (onItem) this.actions.remove(item);
        break;
      case 'Escape':
        this.actions.leave();
        break;
      default:
        return;
    }
    if (to) this.focus(to);
    if (to || onItem || e.key === 'Escape' || e.key.startsWith('Arrow')) e.preventDefault();
  }
}

/**
 * Puts a message's buttons in the tab order, or takes them out.
 * @param {HTMLElement} item
 * @param {boolean} on
 */
function controls(item, on) {
  for (const c of item.querySelectorAll(CONTROLS)) {
    if (on) c.removeAttribute('tabindex');
    else if (c.getAttribute('tabindex') !== '-1') c.setAttribute('tabindex', '-1');
  }
}
