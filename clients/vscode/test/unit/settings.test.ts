import { describe, expect, it } from 'vitest';
import { completionAllowed, objectReader, serverEnv, serverLaunch, serverSettings } from '../../src/settings';

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
