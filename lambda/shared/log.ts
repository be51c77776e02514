const LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * One JSON object per line, so CloudWatch Logs Insights can filter on any field. Callers pass counts,
 * ids and codes; never SDK responses or the event itself (which carries a presigned response URL).
 */
export function createLogger(level: string | undefined, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  const threshold = LEVELS[(level ?? 'INFO').toUpperCase() as LogLevel] ?? LEVELS.INFO;
  const emit = (name: LogLevel) => (message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[name] >= threshold) {
      write(JSON.stringify({ level: name, message, ...fields }));
    }
  };
  return { debug: emit('DEBUG'), info: emit('INFO'), warn: emit('WARN'), error: emit('ERROR') };
}
