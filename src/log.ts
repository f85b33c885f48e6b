export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'text';
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  with(fields: Fields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Field names whose values are never written, whatever a caller passes. */
const SECRET_FIELD = /secret|token|password|accesskey|credential|authorization/i;

export function createLogger(
  options: { level: LogLevel; format: LogFormat },
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  base: Fields = {},
): Logger {
  const emit = (level: LogLevel, msg: string, fields?: Fields): void => {
    if (ORDER[level] < ORDER[options.level]) return;
    const all = redact({ ...base, ...fields });
    if (options.format === 'json') {
      write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...all }));
    } else {
      const kv = Object.entries(all)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(' ');
      write(`${new Date().toISOString()} ${level.toUpperCase()} ${msg}${kv ? ' ' + kv : ''}`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    with: (f) => createLogger(options, write, { ...base, ...f }),
  };
}

function redact(fields: Fields, depth = 0): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_FIELD.test(k)) out[k] = '[redacted]';
    else if (v !== null && typeof v === 'object' && !(v instanceof Error)) {
      out[k] = depth >= 4 ? '[nested]' : Array.isArray(v) ? v.map((x: unknown) => (x && typeof x === 'object' ? redact(x as Fields, depth + 1) : x)) : redact(v as Fields, depth + 1);
    } else out[k] = v;
  }
  return out;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  with: () => silentLogger,
};
