/**
 * A minimal leveled logger writing lines to a stream (stderr in the CLI). Never pass secrets:
 * the API key is not known to anything that logs.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(write: (line: string) => void, level: LogLevel = 'info'): Logger {
  const at = (l: Exclude<LogLevel, 'silent'>) => (msg: string) => {
    if (order[l] >= order[level]) write(`${new Date().toISOString()} ${l.toUpperCase()} ${msg}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = createLogger(() => {}, 'silent');
