import { describe, expect, it } from 'vitest';
import { ShownItems, suggestionId } from '../../src/partialAccept';

describe('ShownItems', () => {
  it('accumulates partial accepts of one suggestion', () => {
    const shown = new ShownItems();
    shown.set('file:///a.py', [{ id: 'c1', insertText: 'return total + 1\n' }]);
    expect(shown.accept('file:///a.py', 'return ')).toEqual({ id: 'c1', acceptedLength: 7 });
    expect(shown.accept('file:///a.py', 'total ')).toEqual({ id: 'c1', acceptedLength: 13 });
    expect(shown.accept('file:///a.py', 'nope')).toBeUndefined();
    expect(shown.accept('file:///b.py', 'return')).toBeUndefined();
  });

  it('ignores items without an id', () => {
    const shown = new ShownItems();
    shown.set('u', [{ insertText: 'x' }]);
    expect(shown.accept('u', 'x')).toBeUndefined();
  });
});

describe('suggestionId', () => {
  it('reads the id from qwen.didAccept', () => {
    expect(suggestionId({ command: 'qwen.didAccept', arguments: [{ id: 'abc' }] })).toBe('abc');
    expect(suggestionId({ command: 'other', arguments: [{ id: 'abc' }] })).toBeUndefined();
    expect(suggestionId(undefined)).toBeUndefined();
  });
});
