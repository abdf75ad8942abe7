import { describe, expect, it } from 'vitest';
import manifest from '../../package.json';
import {
  CLIENT_ONLY,
  completionAllowed,
  nextEditEnabled,
  forwardedSettings,
  objectReader,
  serverEnv,
  serverLaunch,
  serverSettings,
  type SettingSpec,
} from '../../src/settings';

const PROPERTIES = manifest.contributes.configuration.properties as Record<string, SettingSpec & { default?: unknown }>;

/** A value of the setting's type that differs from its default. */
function sample(spec: SettingSpec & { default?: unknown; enum?: unknown[] }): unknown {
  const type = Array.isArray(spec.type) ? spec.type[0] : spec.type;
  if (spec.enum) return spec.enum.find((v) => v !== '' && v !== spec.default);
  if (type === 'string') return 'x';
  if (type === 'number' || type === 'integer') return 7;
  if (type === 'boolean') return !spec.default;
  if (type === 'array') return spec.items?.type === 'string' ? ['x'] : [{ baseUrl: 'http://127.0.0.1:1' }];
  return { baseUrl: 'http://127.0.0.1:2' };
}

describe('serverSettings', () => {
  it('maps the qwen section, dropping empty strings and client-only keys', () => {
    const read = objectReader({
      server: { command: '/opt/qwen-lsp' },
      endpoint: { baseUrl: ' http://127.0.0.1:8000/v1 ', provider: '', timeoutMs: 5000, caBundle: '' },
      completion: { enabled: true, autoTrigger: false, model: 'qwen2.5-coder', maxTokens: 64, disabledLanguages: ['markdown'] },
      chat: { model: '', thinking: true, maxTokens: 1024 },
    });
    expect(serverSettings(read)).toEqual({
      endpoint: { baseUrl: 'http://127.0.0.1:8000/v1', timeoutMs: 5000 },
      completion: { enabled: true, model: 'qwen2.5-coder', maxTokens: 64, disabledLanguages: ['markdown'] },
      chat: { thinking: true, maxTokens: 1024 },
    });
  });

  it('never forwards an API key written into settings', () => {
    const read = objectReader({ endpoint: { apiKey: 'sk-secret', baseUrl: 'http://x' } });
    expect(JSON.stringify(serverSettings(read))).not.toContain('sk-secret');
  });

  it('strips keys from fallback endpoints and the next-edit endpoint too', () => {
    const read = objectReader({
      endpoint: { fallbacks: [{ baseUrl: 'http://a', apiKey: 'sk-1' }] },
      nextEdit: { endpoint: { baseUrl: 'http://b', apiKey: 'sk-2' } },
    });
    expect(serverSettings(read)).toEqual({
      endpoint: { fallbacks: [{ baseUrl: 'http://a' }] },
      nextEdit: { endpoint: { baseUrl: 'http://b' } },
    });
  });

  it('forwards every contributed setting but the client-only ones, when set', () => {
    const values: Record<string, Record<string, unknown>> = {};
    const expected: Record<string, Record<string, unknown>> = {};
    for (const [full, spec] of Object.entries(PROPERTIES)) {
      const [group, name] = full.replace(/^qwen\./, '').split('.');
      const value = sample(spec);
      expect(value, full).not.toBeUndefined();
      (values[group] ??= {})[name] = value;
      if (!CLIENT_ONLY.includes(`${group}.${name}`)) (expected[group] ??= {})[name] = value;
    }
    expect(serverSettings(objectReader(values))).toEqual(expected);
    expect(Object.keys(forwardedSettings(PROPERTIES))).toContain('completion.debounceMinMs');
    expect(Object.keys(forwardedSettings(PROPERTIES))).not.toContain('server.command');
  });

  it('sends only what the user set, so the server keeps its defaults and environment', () => {
    const read = { ...objectReader({ completion: { maxTokens: 128, timeoutMs: 900 } }), isSet: (k: string) => k === 'completion.timeoutMs' };
    expect(serverSettings(read)).toEqual({ completion: { timeoutMs: 900 } });
  });

  it('drops values of the wrong type', () => {
    const read = objectReader({ completion: { maxTokens: 'many', temperature: Number.NaN, disabledLanguages: [1, 2] } });
    expect(serverSettings(read)).toEqual({});
  });
});

describe('serverLaunch', () => {
  it('defaults to qwen-lsp on PATH', () => {
    expect(serverLaunch(objectReader({}))).toEqual({ command: 'qwen-lsp', args: [] });
  });
  it('runs a Python interpreter as -m lsp_server', () => {
    expect(serverLaunch(objectReader({ server: { command: '/venv/bin/python3.11' } }))).toEqual({
      command: '/venv/bin/python3.11',
      args: ['-m', 'lsp_server'],
    });
  });
  it('keeps explicit arguments', () => {
    expect(serverLaunch(objectReader({ server: { command: 'python', args: ['-m', 'lsp_server', 'serve'] } })).args).toEqual([
      '-m',
      'lsp_server',
      'serve',
    ]);
  });
});

describe('serverEnv', () => {
  it('adds the key only when set', () => {
    expect(serverEnv({ PATH: '/bin', X: undefined }, undefined)).toEqual({ PATH: '/bin', PYTHONSAFEPATH: '1' });
    expect(serverEnv({ PATH: '/bin' }, 'sk-1').QWEN_LSP_API_KEY).toBe('sk-1');
  });
  it('never lets python import from the working directory (the workspace)', () => {
    expect(serverEnv({ PYTHONSAFEPATH: '' }, undefined).PYTHONSAFEPATH).toBe('1');
  });
});

describe('completionAllowed', () => {
  it('honours enable, per-language and auto-trigger', () => {
    expect(completionAllowed(objectReader({}), 'python', false)).toBe(true);
    expect(completionAllowed(objectReader({ completion: { enabled: false } }), 'python', true)).toBe(false);
    expect(completionAllowed(objectReader({ completion: { disabledLanguages: ['python'] } }), 'python', true)).toBe(false);
    expect(completionAllowed(objectReader({ completion: { autoTrigger: false } }), 'python', false)).toBe(false);
    expect(completionAllowed(objectReader({ completion: { autoTrigger: false } }), 'python', true)).toBe(true);
  });
});

describe('nextEditEnabled', () => {
  it('follows the setting when set, else whether a next-edit model is configured', () => {
    expect(nextEditEnabled(objectReader({}))).toBe(false);
    expect(nextEditEnabled(objectReader({ nextEdit: { model: 'sweep-next-edit-1.5b' } }))).toBe(true);
    expect(nextEditEnabled(objectReader({ nextEdit: { model: 'sweep', enabled: false } }))).toBe(false);
    expect(nextEditEnabled(objectReader({ nextEdit: { enabled: true } }))).toBe(true);
    // VS Code's reader returns the default (false) for an unset setting: isSet tells them apart.
    const unset = { ...objectReader({ nextEdit: { enabled: false, model: 'zeta' } }), isSet: (k: string) => k === 'nextEdit.model' };
    expect(nextEditEnabled(unset)).toBe(true);
  });
});
