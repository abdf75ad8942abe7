// Settings: what the server receives, how it is started, which changes need a restart.
// Pure: reads settings through a small interface, so tests need no editor.

/** Reads `qwen.*` settings by their key below `qwen` ("endpoint.baseUrl"). */
export interface SettingsReader {
  get<T>(key: string): T | undefined;
}

/** Settings forwarded to the server, by key below `qwen`, with their JSON type. */
const FORWARDED: Record<string, 'string' | 'number' | 'boolean' | 'string[]'> = {
  'endpoint.baseUrl': 'string',
  'endpoint.provider': 'string',
  'endpoint.timeoutMs': 'number',
  'endpoint.caBundle': 'string',
  'completion.enabled': 'boolean',
  'completion.model': 'string',
  'completion.maxTokens': 'number',
  'completion.maxLines': 'number',
  'completion.singleLineOnly': 'boolean',
  'completion.temperature': 'number',
  'completion.disabledLanguages': 'string[]',
  'chat.model': 'string',
  'chat.thinking': 'boolean',
  'chat.maxTokens': 'number',
};

/** Keys whose change restarts the server (everything else is re-read by the server). */
export const RESTART_SETTINGS = ['qwen.server.command', 'qwen.server.args'];

function valid(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string' && value.trim() !== '';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    default:
      return false;
  }
}

/**
 * Build the `qwen` section the server gets (initializationOptions and workspace/configuration).
 *
 * Only known keys with well-typed values are sent; empty strings are left out so the server's
 * own defaults and environment variables apply. The API key is never part of it: it travels
 * in the server's environment only.
 */
export function serverSettings(read: SettingsReader): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, type] of Object.entries(FORWARDED)) {
    const value = read.get<unknown>(key);
    if (!valid(value, type)) continue;
    const [group, name] = key.split('.');
    (out[group] ??= {})[name] = typeof value === 'string' ? value.trim() : value;
  }
  return out;
}

export interface ServerLaunch {
  command: string;
  args: string[];
}

const PYTHON = /^python(\d+(\.\d+)*)?(\.exe)?$/i;

/** How to start the server: `qwen-lsp`, a path to it, or a Python interpreter with `-m lsp_server`. */
export function serverLaunch(read: SettingsReader): ServerLaunch {
  const raw = read.get<string>('server.command');
  const command = typeof raw === 'string' && raw.trim() ? raw.trim() : 'qwen-lsp';
  const rawArgs = read.get<unknown>('server.args');
  const args = Array.isArray(rawArgs) ? rawArgs.filter((a): a is string => typeof a === 'string') : [];
  const base = command.split(/[\\/]/).pop() ?? command;
  if (args.length === 0 && PYTHON.test(base)) return { command, args: ['-m', 'lsp_server'] };
  return { command, args };
}

/**
 * The server's environment: the editor's, plus the API key from secret storage when set.
 * PYTHONSAFEPATH keeps `python -m lsp_server` from importing modules out of the working
 * directory (the workspace): a workspace file named like a dependency (`pygls.py`) would run.
 */
export function serverEnv(base: Record<string, string | undefined>, apiKey: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  env.PYTHONSAFEPATH = '1';
  if (apiKey) env.QWEN_LSP_API_KEY = apiKey;
  return env;
}

/** Whether inline completions are on for a document (the client-side checks). */
export function completionAllowed(read: SettingsReader, languageId: string, explicit: boolean): boolean {
  if (read.get<boolean>('completion.enabled') === false) return false;
  const disabled = read.get<unknown>('completion.disabledLanguages');
  if (Array.isArray(disabled) && disabled.includes(languageId)) return false;
  if (!explicit && read.get<boolean>('completion.autoTrigger') === false) return false;
  return true;
}

/** A reader over a plain nested object, e.g. `{endpoint: {baseUrl: ...}}`. */
export function objectReader(obj: Record<string, unknown>): SettingsReader {
  return {
    get<T>(key: string): T | undefined {
      let cur: unknown = obj;
      for (const part of key.split('.')) {
        if (typeof cur !== 'object' || cur === null) return undefined;
        cur = (cur as Record<string, unknown>)[part];
      }
      return cur as T | undefined;
    },
  };
}
