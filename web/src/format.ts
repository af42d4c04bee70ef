/** Dates and titles as the sidebar shows them (local time). */
export { titleFromPrompt } from '../../domain/conversation';

const DAY_MS = 86_400_000;

/** The heading a conversation is listed under, by its latest activity. */
export function dateGroup(timestamp: string, now = Date.now()): string {
  const time = Date.parse(timestamp);
  if (Number.isNaN(time)) return 'Older';
  const today = new Date(now);
  today.setHours(0, 0, 0, 0);
  if (time >= today.getTime()) return 'Today';
  if (time >= today.getTime() - DAY_MS) return 'Yesterday';
  if (time >= today.getTime() - 7 * DAY_MS) return 'Previous 7 days';
  if (time >= today.getTime() - 30 * DAY_MS) return 'Previous 30 days';
  return 'Older';
}

/** "now", "5 min", "3 h", "2 d", then the date: short enough to sit beside a title. */
export function relativeTime(timestamp: string, now = Date.now()): string {
  const time = Date.parse(timestamp);
  if (Number.isNaN(time)) return '';
  const seconds = Math.max(0, Math.round((now - time) / 1000));
  if (seconds < 60) return 'now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h`;
  if (seconds < 7 * 86_400) return `${Math.floor(seconds / 86_400)} d`;
  return new Date(time).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}
