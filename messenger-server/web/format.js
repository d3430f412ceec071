// @ts-check
// Text for people: dates and times in the reader's locale, and errors in plain words.

import { ErrorCode } from './messenger-client.js';

export const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
export const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const longDateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });

/** Midnight of the day of `d`, local time, as ms since the epoch. @param {Date} d */
export function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** Whole days from `d` to today (0 today, 1 yesterday). @param {Date} d */
function dayDiff(d) {
  return Math.round((startOfDay(new Date()) - startOfDay(d)) / 86400000);
}

/** A chat list's time: the hour today, the weekday this week, else the date. @param {string} iso */
export function listTime(iso) {
  const d = new Date(iso);
  const diff = dayDiff(d);
  if (diff === 0) return timeFmt.format(d);
  if (diff > 0 && diff < 7) return weekdayFmt.format(d);
  return shortDateFmt.format(d);
}

/** A day separator's label. @param {Date} d */
export function dayLabel(d) {
  const diff = dayDiff(d);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return longDateFmt.format(d);
}

/** @param {string} s */
export function capitalise(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

/** `"phone: must be…"` → `"must be…"`. @param {string} message */
function stripField(message) {
  const m = /^[a-z_]+:\s*(.*)$/s.exec(message);
  return m ? m[1] : message;
}

/**
 * Human text for an error, for toasts and form messages.
 * @param {unknown} e an ApiError, an `error` frame, or anything else thrown
 */
export function errorText(e) {
  const { code, message } = /** @type {{code?: unknown, message?: unknown}} */ (e ?? {});
  switch (code) {
    case ErrorCode.NETWORK:
      return 'Cannot reach the server. Check your connection.';
    case ErrorCode.RATE_LIMITED:
      return 'Too many requests. Please wait a moment and try again.';
    case ErrorCode.UNAVAILABLE:
      return 'The service is temporarily unavailable. Please try again shortly.';
    case ErrorCode.FORBIDDEN:
      return 'You are not allowed to do that.';
    case ErrorCode.NOT_FOUND:
      return 'That no longer exists.';
    case ErrorCode.TOO_LARGE:
      return 'That is too large.';
    default:
      return typeof message === 'string' && message ? capitalise(stripField(message)) : 'Something went wrong.';
  }
}
