/**
 * A logger that drops every line, for the official client's `logger` option and anything else that
 * takes `info` / `warn` / `error` / `debug`. The client's default logger writes files under $HOME;
 * tests never want that, and their output stays readable.
 */
export const silentLogger: {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
} = Object.freeze({
  info() {},
  warn() {},
  error() {},
  debug() {},
});
