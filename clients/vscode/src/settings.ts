// Settings: what the server receives, how it is started, which changes need a restart.
// Pure: reads settings through a small interface, so tests need no editor.

import manifest from '../package.json';

/** Reads `qwen.*` settings by their key below `qwen` ("endpoint.baseUrl"). */
export interface SettingsReader {
  get<T>(key: string): T | undefined;
  /** Whether the user set `key` somewhere (not only its default); absent: whenever get() has a value. */
  isSet?(key: string): boolean;
}

/** Settings that only the client reads; every other `qwen.*` setting in package.json goes to
 * the server. package.json's contributions are the one table of settings: adding one there
 * forwards it, and tests/e2e/test_vscode.py checks that table against the server's settings. */
export const CLIENT_ONLY = ['server.command', 'server.args', 'completion.autoTrigger', 'trace.server'];

/** The JSON types a contributed setting may have (package.json `type`). */
export type SettingType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';

export interface SettingSpec {
  type?: SettingType | SettingType[];
  items?: { type?: SettingType };
}

/** The forwarded settings, by key below `qwen`, from package.json's `contributes.configuration`. */
export function forwardedSettings(properties: Record<string, SettingSpec>): Record<string, SettingSpec> {
  const out: Record<string, SettingSpec> = {};
  for (const [full, spec] of Object.entries(properties)) {
    const key = full.replace(/^qwen\./, '');
    if (key !== full && !CLIENT_ONLY.includes(key)) out[key] = spec;
  }
  return out;
}

const FORWARDED = forwardedSettings(manifest.contributes.configuration.properties as Record<string, SettingSpec>);

/** Keys whose change restarts the server (everything else is re-read by the server). */
export const RESTART_SETTINGS = ['qwen.server.command', 'qwen.server.args'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validAs(value: unknown, type: SettingType, items?: SettingType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string' && value.trim() !== '';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value) && (!items || value.every((v) => validAs(v, items)));
    case 'object':
      return isObject(value);
    default:
      return false;
  }
}

function valid(value: unknown, spec: SettingSpec): boolean {
  const types = Array.isArray(spec.type) ? spec.type : spec.type ? [spec.type] : [];
  return types.some((t) => validAs(value, t, spec.items?.type));
}

/** A copy without `apiKey` members at any depth: keys reach the server through its
 * environment only, never through settings (which LSP traces would show). */
function withoutKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutKeys);
  if (!isObject(value)) return typeof value === 'string' ? value.trim() : value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'apiKey').map(([k, v]) => [k, withoutKeys(v)]));
}

/**
 * Build the `qwen` section the server gets (initializationOptions and workspace/configuration).
 *
 * Only settings the user set, of known keys and well-typed, are sent (so the server's own
 * defaults and environment variables apply to the rest); empty strings are left out. The API
 * key is never part of it: it travels in the server's environment only.
 */
export function serverSettings(read: SettingsReader, forwarded: Record<string, SettingSpec> = FORWARDED): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, spec] of Object.entries(forwarded)) {
    if (read.isSet && !read.isSet(key)) continue;
    const value = read.get<unknown>(key);
    if (!valid(value, spec)) continue;
    const [group, name] = key.split('.');
    (out[group] ??= {})[name] = withoutKeys(value);
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

/** Whether to ask for next edits: `nextEdit.enabled` when set, else whether a next-edit model
 * is configured (the server's rule too). */
export function nextEditEnabled(read: SettingsReader): boolean {
  const set = read.isSet ? read.isSet('nextEdit.enabled') : read.get('nextEdit.enabled') !== undefined;
  const enabled = read.get<unknown>('nextEdit.enabled');
  if (set && typeof enabled === 'boolean') return enabled;
  const model = read.get<unknown>('nextEdit.model');
  return typeof model === 'string' && model.trim() !== '';
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
