import { describe, expect, it } from 'vitest';
import { ChatSession, describeTarget } from '../../src/chatSession';
import { chatHtml } from '../../src/chatHtml';

describe('ChatSession', () => {
  it('streams deltas into the waiting answer and finishes it', () => {
    const s = new ChatSession(undefined, () => 's1');
    const i = s.ask('why?');
    expect(s.busy).toBe(true);
    expect(s.delta('r1', 'Be', undefined)).toBe(i);
    expect(s.delta('r1', 'cause', undefined)).toBe(i);
    expect(s.delta('r1', 'hmm', 'reasoning')).toBe(i);
    expect(s.messages[i]).toMatchObject({ text: 'Because', reasoning: 'hmm', requestId: 'r1' });
    s.finish(i, 'done', { text: 'Because.' });
    expect(s.busy).toBe(false);
    expect(s.messages[i].text).toBe('Because.');
    expect(s.delta('r1', 'late', undefined)).toBe(-1);
  });

  it('keeps partial text when stopped and ignores later deltas', () => {
    const s = new ChatSession(undefined, () => 's1');
    const i = s.ask('q');
    s.delta('r', 'part', undefined);
    s.finish(i, 'stopped');
    s.finish(i, 'done', { text: 'full' });
    expect(s.messages[i]).toMatchObject({ text: 'part', status: 'stopped' });
  });

  it('restores history, ending answers that were streaming', () => {
    const s = new ChatSession({ sessionId: 'old', messages: [{ role: 'assistant', text: 'x', status: 'streaming' }] });
    expect(s.sessionId).toBe('old');
    expect(s.messages[0].status).toBe('stopped');
    s.reset(() => 'new');
    expect(s.snapshot()).toEqual({ sessionId: 'new', messages: [] });
  });
});

describe('chatHtml', () => {
  it('sets a strict CSP with a script nonce and no inline or remote sources', () => {
    const html = chatHtml('vscode-resource:', 'vscode-resource:/chat.js', 'vscode-resource:/chat.css', 'N0NCE');
    const csp = /content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'nonce-N0NCE'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https:|\*/);
    expect(html).toContain('<script nonce="N0NCE" src="vscode-resource:/chat.js"></script>');
  });
});

describe('describeTarget', () => {
  it('names the file and 1-based lines', () => {
    const range = (a: number, b: number) => ({ start: { line: a, character: 0 }, end: { line: b, character: 4 } });
    expect(describeTarget({ uri: 'file:///w/my%20app.py', range: range(2, 8) })).toBe('`my app.py:3-9`');
    expect(describeTarget({ uri: 'file:///w/a.py', range: range(0, 0) })).toBe('`a.py:1`');
  });
});
