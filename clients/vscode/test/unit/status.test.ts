import { describe, expect, it } from 'vitest';
import { StatusModel } from '../../src/status';

describe('StatusModel', () => {
  it('goes starting -> idle -> requesting -> idle', () => {
    const s = new StatusModel();
    expect(s.view().state).toBe('starting');
    s.setClient('running');
    expect(s.view().state).toBe('idle');
    s.onStatus({ state: 'requesting', endpoint: 'http://127.0.0.1:1', model: 'm' });
    expect(s.view()).toMatchObject({ state: 'requesting', text: '$(loading~spin) Qwen' });
    expect(s.view().tooltip).toContain('http://127.0.0.1:1');
    s.onStatus({ state: 'idle' });
    expect(s.view()).toMatchObject({ state: 'idle', text: '$(sparkle) Qwen' });
  });

  it('shows a next edit being asked for, then where it is', () => {
    const s = new StatusModel();
    s.setClient('running');
    s.setNextEdit({ kind: 'requesting' });
    expect(s.view()).toMatchObject({ state: 'requesting' });
    expect(s.view().tooltip).toContain('next edit');
    s.setNextEdit({ kind: 'shown', line: 83 });
    expect(s.view()).toMatchObject({ state: 'next-edit', text: '$(arrow-right) Qwen: next edit line 84' });
    s.setNextEdit({ kind: 'idle' });
    expect(s.view().state).toBe('idle');
  });

  it('shows indexing percentage from work-done progress until it ends', () => {
    const s = new StatusModel();
    s.setClient('running');
    s.onProgress('t1', { kind: 'begin', title: 'Indexing', percentage: 0 });
    expect(s.view()).toMatchObject({ state: 'indexing', text: '$(sync~spin) Qwen: indexing 0%' });
    s.onProgress('t1', { kind: 'report', percentage: 42.4, message: '10/24 files' });
    expect(s.view().text).toBe('$(sync~spin) Qwen: indexing 42%');
    expect(s.view().tooltip).toContain('10/24 files');
    s.onProgress('t1', { kind: 'end' });
    expect(s.view().state).toBe('idle');
  });

  it('shows indexing from qwen/status without progress', () => {
    const s = new StatusModel();
    s.setClient('running');
    s.onStatus({ state: 'indexing', message: 'scanning' });
    expect(s.view()).toMatchObject({ state: 'indexing', text: '$(sync~spin) Qwen: indexing' });
  });

  it('reports endpoint errors and start failures', () => {
    const s = new StatusModel();
    s.setClient('running');
    s.onStatus({ state: 'error', message: 'set QWEN_LSP_API_KEY' });
    expect(s.view()).toMatchObject({ state: 'error', severity: 'warning' });
    expect(s.view().tooltip).toContain('set QWEN_LSP_API_KEY');
    s.setClient('failed', 'spawn qwen-lsp ENOENT');
    expect(s.view()).toMatchObject({ state: 'error', severity: 'error' });
    expect(s.view().tooltip).toContain('ENOENT');
  });

  it('shows completions turned off', () => {
    const s = new StatusModel();
    s.setClient('running');
    s.setEnabled(false);
    expect(s.view().state).toBe('disabled');
  });
});
