// Structured logs (JSON lines via pino). Level from KRAAL_LOG_LEVEL or the caller.
import { pino, type Logger } from 'pino';

export function createLogger(level = process.env.KRAAL_LOG_LEVEL ?? 'info', dest: number = 1): Logger {
  return pino({ level, base: { svc: 'kraal' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest, sync: false }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
