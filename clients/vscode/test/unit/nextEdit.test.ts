import { describe, expect, it } from 'vitest';
import {
  applyEdit,
  cursorAfterAccept,
  doctorNextEdit,
  isRefusal,
  offscreenIndicator,
  offsetAt,
  pickEdit,
  planEdit,
  positionAt,
  refusalOf,
  shouldAsk,
  tabAction,
  type InlineEdit,
} from '../../src/nextEdit';

const DOC = 'def add(x, b):\n    """Return the sum."""\n    return a + b\n';
const r = (sl: number, sc: number, el: number, ec: number) => ({ start: { line: sl, character: sc }, end: { line: el, character: ec } });

describe('positions', () => {
  it('converts between offsets and positions, clamping out-of-range ones', () => {
    expect(offsetAt(DOC, { line: 2, character: 11 })).toBe(DOC.indexOf('a + b'));
    expect(positionAt(DOC, DOC.indexOf('a + b'))).toEqual({ line: 2, character: 11 });
    expect(offsetAt(DOC, { line: 0, character: 99 })).toBe(DOC.indexOf('\n'));
    expect(offsetAt(DOC, { line: 99, character: 0 })).toBe(DOC.length);
    expect(positionAt(DOC, -5)).toEqual({ line: 0, character: 0 });
  });

  it('counts UTF-16 units as LSP and VS Code do', () => {
    const text = 'x = "😀"; y = 1\n';
    expect(offsetAt(text, { line: 0, character: 10 })).toBe(10);
    expect(applyEdit(text, r(0, 10, 0, 11), 'z')).toBe('x = "😀"; z = 1\n');
  });

  it('applies an edit spanning lines', () => {
    expect(applyEdit(DOC, r(1, 0, 2, 0), '')).toBe('def add(x, b):\n    return a + b\n');
  });
});

describe('planEdit', () => {
  it('shows a renamed identifier as the old one struck and the new one as ghost text', () => {
    // The server may send whole lines; only the changed characters are drawn.
    const plan = planEdit(DOC, r(2, 0, 2, 16), '    return x + b');
    expect(plan.deleted).toEqual([{ range: r(2, 11, 2, 12) }]);
    expect(plan.inserted).toEqual([{ at: { line: 2, character: 12 }, text: 'x' }]);
    expect(plan.insertedLines).toEqual([]);
    expect([plan.firstLine, plan.lastLine]).toEqual([2, 2]);
    expect(plan.anchor).toEqual({ line: 2, character: 11 });
    expect(plan.empty).toBe(false);
  });

  it('trims unchanged lines at either end of a region rewrite', () => {
    const region = 'def add(x, b):\n    """Return the sum."""\n    return x + b\n';
    const plan = planEdit(DOC, r(0, 0, 3, 0), region);
    expect([plan.firstLine, plan.lastLine]).toEqual([2, 2]);
    expect(plan.deleted.map((d) => d.range)).toEqual([r(2, 11, 2, 12)]);
  });

  it('deletes whole lines and lists new lines after the change', () => {
    const deleting = planEdit(DOC, r(1, 0, 2, 0), '');
    expect(deleting.deleted).toEqual([{ range: r(1, 0, 1, 25) }]);
    expect(deleting.inserted).toEqual([]);
    const adding = planEdit(DOC, r(2, 16, 2, 16), '\n    # done');
    expect(adding.insertedLines).toEqual([{ after: 2, lines: ['    # done'] }]);
    expect(adding.anchor).toEqual({ line: 2, character: 16 });
    expect(adding.deleted).toEqual([]);
  });

  it('knows an edit that changes nothing', () => {
    expect(planEdit(DOC, r(2, 11, 2, 12), 'a').empty).toBe(true);
  });
});

describe('pickEdit', () => {
  const edit = (version: number, text = 'x'): InlineEdit => ({ range: r(2, 11, 2, 12), text, textDocument: { uri: 'file:///calc.py', version } });

  it('drops edits for another version or document, and ones that change nothing', () => {
    expect(pickEdit({ edits: [edit(3)] }, 'file:///calc.py', 4, DOC)).toBeUndefined();
    expect(pickEdit({ edits: [edit(4)] }, 'file:///other.py', 4, DOC)).toBeUndefined();
    expect(pickEdit({ edits: [edit(4, 'a')] }, 'file:///calc.py', 4, DOC)).toBeUndefined();
    expect(pickEdit(null, 'file:///calc.py', 4, DOC)).toBeUndefined();
    expect(pickEdit({ edits: [edit(4, 'a'), edit(4)] }, 'file:///calc.py', 4, DOC)?.edit.text).toBe('x');
  });
});

describe('tabAction', () => {
  const plan = planEdit(DOC, r(2, 11, 2, 12), 'x');
  const base = { plan, inlineSuggestionVisible: false, suggestWidgetVisible: false };

  it('jumps from elsewhere and accepts on the edit', () => {
    expect(tabAction({ ...base, cursor: { line: 0, character: 9 } })).toBe('jump');
    expect(tabAction({ ...base, cursor: plan.anchor })).toBe('accept');
    expect(tabAction({ ...base, cursor: { line: 2, character: 0 } })).toBe('accept');
  });

  it('leaves Tab alone with nothing shown, or when a completion or the suggest widget has it', () => {
    expect(tabAction({ ...base, plan: undefined, cursor: plan.anchor })).toBe('default');
    expect(tabAction({ ...base, inlineSuggestionVisible: true, cursor: plan.anchor })).toBe('default');
    expect(tabAction({ ...base, suggestWidgetVisible: true, cursor: { line: 0, character: 0 } })).toBe('default');
  });
});

describe('offscreenIndicator', () => {
  const plan = planEdit(DOC, r(2, 11, 2, 12), 'x');
  it('says where an edit off screen is, and nothing for a visible one', () => {
    expect(offscreenIndicator([{ start: 0, end: 40 }], plan)).toBeNull();
    expect(offscreenIndicator([{ start: 50, end: 90 }], plan)).toBe('↑ next edit: line 3, Tab to jump');
    expect(offscreenIndicator([], plan)).toBe('↓ next edit: line 3, Tab to jump');
  });
});

describe('shouldAsk', () => {
  const base = { enabled: true, scheme: 'file', refused: false, inlineCompletionShown: false, invoked: false };
  it('asks while typing only when enabled, and never for refused or non-file documents', () => {
    expect(shouldAsk(base)).toBe(true);
    expect(shouldAsk({ ...base, enabled: false })).toBe(false);
    expect(shouldAsk({ ...base, enabled: false, invoked: true })).toBe(true);
    expect(shouldAsk({ ...base, refused: true })).toBe(false);
    expect(shouldAsk({ ...base, scheme: 'output' })).toBe(false);
  });
  it('stops asking automatically once the server refused the document, not when the user asks', () => {
    const refusal = refusalOf({ edits: [], refused: 'secret or ignored file: its text is never sent' });
    expect(refusal).toBe('secret or ignored file: its text is never sent');
    expect(shouldAsk({ ...base, refused: refusal !== undefined })).toBe(false);
    expect(shouldAsk({ ...base, refused: refusal !== undefined, invoked: true })).toBe(true);
    expect(refusalOf({ edits: [] })).toBeUndefined();
    expect(refusalOf({ edits: [], refused: '' })).toBeUndefined();
    expect(refusalOf(null)).toBeUndefined();
  });
  it('lets an inline completion win unless the user asked', () => {
    expect(shouldAsk({ ...base, inlineCompletionShown: true })).toBe(false);
    expect(shouldAsk({ ...base, inlineCompletionShown: true, invoked: true })).toBe(true);
  });
});

describe('acceptance helpers', () => {
  it('puts the cursor after the inserted text', () => {
    expect(cursorAfterAccept(r(2, 11, 2, 12), 'xy')).toEqual({ line: 2, character: 13 });
    expect(cursorAfterAccept(r(2, 11, 2, 12), 'x\n  y')).toEqual({ line: 3, character: 3 });
  });
  it('recognises the server refusing a secret file', () => {
    expect(isRefusal({ code: -32603, message: '.env is a secret file; it is never sent' })).toBe(true);
    expect(isRefusal(new Error('connection closed'))).toBe(false);
  });
});

describe('doctorNextEdit', () => {
  it('says whether next edits are configured and whether the model answered', () => {
    expect(doctorNextEdit(false, '', '')).toMatch(/^next edits: off \(set qwen.nextEdit.model/);
    expect(doctorNextEdit(true, 'sweep-1.5b', 'sweep', { file: 'calc.py:3', ms: 412, edits: 1 })).toBe(
      'next edits: on, model sweep-1.5b, format sweep\n  asked at calc.py:3: answered in 412 ms with 1 edit\n');
    expect(doctorNextEdit(true, 'm', '', { file: 'a.py:1', error: 'timed out' })).toContain('FAILED: timed out');
    expect(doctorNextEdit(true, 'm', '', { noFile: true })).toContain('open a file');
  });
});
