// Next-edit suggestions, the pure part: what to draw for a proposed edit (deleted text, inserted
// text, the lines it touches), position arithmetic on plain text, and what Tab, a typed key or
// a new request mean for the edit on screen. No vscode imports: src/nextEditView.ts draws.

import type { LspPosition, LspRange } from './protocol';

export const INLINE_EDIT_REQUEST = 'textDocument/copilotInlineEdit';
export const DID_SHOW_INLINE_EDIT = 'textDocument/didShowInlineEdit';
export const DID_REJECT_INLINE_EDIT = 'qwen/didRejectInlineEdit';

export const TRIGGER_INVOKED = 1;
export const TRIGGER_AUTOMATIC = 2;

export interface InlineEditCommand {
  title?: string;
  command: string;
  arguments?: unknown[];
}

/** One edit as the server returns it (and as it is reported back). */
export interface InlineEdit {
  range: LspRange;
  text: string;
  textDocument: { uri: string; version: number };
  command?: InlineEditCommand;
}

export interface InlineEditParams {
  textDocument: { uri: string; version: number };
  position: LspPosition;
  context: { triggerKind: number };
}

export type RejectReason = 'dismissed' | 'superseded' | 'typed';

// -- text and positions ------------------------------------------------------------------

/** Lines of `text`, split on \n (a \r before it stays part of the line, as in the buffer). */
export function lines(text: string): string[] {
  return text.split('\n');
}

/** Offset of an LSP position (UTF-16 units, like JS strings), clamped into the text. */
export function offsetAt(text: string, pos: LspPosition): number {
  const all = lines(text);
  if (pos.line < 0) return 0;
  if (pos.line >= all.length) return text.length;
  let offset = 0;
  for (let i = 0; i < pos.line; i++) offset += all[i].length + 1;
  return offset + Math.max(0, Math.min(pos.character, all[pos.line].length));
}

export function positionAt(text: string, offset: number): LspPosition {
  const clamped = Math.max(0, Math.min(offset, text.length));
  const before = text.slice(0, clamped);
  const line = before.split('\n').length - 1;
  return { line, character: clamped - (before.lastIndexOf('\n') + 1) };
}

export function applyEdit(text: string, range: LspRange, newText: string): string {
  return text.slice(0, offsetAt(text, range.start)) + newText + text.slice(offsetAt(text, range.end));
}

export function comparePositions(a: LspPosition, b: LspPosition): number {
  return a.line - b.line || a.character - b.character;
}

/** Whether an edit is for this document as it is now (a stale version is dropped). */
export function isCurrent(edit: InlineEdit, uri: string, version: number): boolean {
  return edit.textDocument.uri === uri && edit.textDocument.version === version;
}

// -- what to draw ------------------------------------------------------------------------

/** Text struck through as deleted. */
export interface DeletedSpan {
  range: LspRange;
}

/** Text shown as ghost text, inserted before `at`. */
export interface InsertedSpan {
  at: LspPosition;
  text: string;
}

/** Whole new lines, shown after the end of line `after` (there is no room for real lines). */
export interface InsertedLines {
  after: number;
  lines: string[];
}

export interface EditPlan {
  deleted: DeletedSpan[];
  inserted: InsertedSpan[];
  insertedLines: InsertedLines[];
  /** Document lines the change touches (gutter and overview-ruler marks). */
  firstLine: number;
  lastLine: number;
  /** Where Tab jumps to: the start of the first real change. */
  anchor: LspPosition;
  /** The edit changes nothing: not worth showing. */
  empty: boolean;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function commonSuffix(a: string, b: string, prefix: number): number {
  let i = 0;
  while (i < a.length - prefix && i < b.length - prefix && a[a.length - 1 - i] === b[b.length - 1 - i]) i++;
  return i;
}

/**
 * Turn an edit into what the editor draws: unchanged lines and characters at either end are
 * trimmed, each changed line pair shows its deleted characters struck through and its new
 * characters as ghost text right there; lines only in the old text are deleted whole, lines
 * only in the new text are listed after the last line they follow.
 */
export function planEdit(documentText: string, range: LspRange, newText: string): EditPlan {
  const all = lines(documentText);
  const startLine = Math.max(0, Math.min(range.start.line, all.length - 1));
  const endLine = Math.max(startLine, Math.min(range.end.line, all.length - 1));
  const oldBlock = all.slice(startLine, endLine + 1);
  const blockText = oldBlock.join('\n');
  const newBlockText = applyEdit(blockText, shift(range, -startLine), newText);
  const newBlock = lines(newBlockText);

  let top = 0;
  while (top < oldBlock.length && top < newBlock.length && oldBlock[top] === newBlock[top]) top++;
  let bottom = 0;
  while (bottom < oldBlock.length - top && bottom < newBlock.length - top &&
    oldBlock[oldBlock.length - 1 - bottom] === newBlock[newBlock.length - 1 - bottom]) bottom++;
  const oldChanged = oldBlock.slice(top, oldBlock.length - bottom);
  const newChanged = newBlock.slice(top, newBlock.length - bottom);
  const first = startLine + top;

  const plan: EditPlan = { deleted: [], inserted: [], insertedLines: [], firstLine: first, lastLine: first, anchor: { line: first, character: 0 }, empty: false };
  if (!oldChanged.length && !newChanged.length) return { ...plan, empty: true };

  const paired = Math.min(oldChanged.length, newChanged.length);
  let anchorSet = false;
  for (let i = 0; i < paired; i++) {
    const line = first + i;
    const a = oldChanged[i];
    const b = newChanged[i];
    const pre = commonPrefix(a, b);
    const suf = commonSuffix(a, b, pre);
    const delEnd = a.length - suf;
    if (delEnd > pre) plan.deleted.push({ range: { start: { line, character: pre }, end: { line, character: delEnd } } });
    const ins = b.slice(pre, b.length - suf);
    if (ins) plan.inserted.push({ at: { line, character: delEnd }, text: ins });
    if (!anchorSet) {
      plan.anchor = { line, character: pre };
      anchorSet = true;
    }
  }
  for (let i = paired; i < oldChanged.length; i++) {
    const line = first + i;
    plan.deleted.push({ range: { start: { line, character: 0 }, end: { line, character: oldChanged[i].length } } });
    if (!anchorSet) {
      plan.anchor = { line, character: 0 };
      anchorSet = true;
    }
  }
  if (newChanged.length > paired) {
    // New lines go after the last changed old line, or after the line above the change.
    const after = paired > 0 ? first + paired - 1 : oldChanged.length > 0 ? first + oldChanged.length - 1 : Math.max(0, first - 1);
    plan.insertedLines.push({ after, lines: newChanged.slice(paired) });
    if (!anchorSet) plan.anchor = { line: after, character: (all[after] ?? '').length };
  }
  plan.lastLine = Math.max(first, first + oldChanged.length - 1, ...plan.insertedLines.map((l) => l.after));
  plan.firstLine = Math.min(first, ...plan.insertedLines.map((l) => l.after));
  return plan;
}

function shift(range: LspRange, lines: number): LspRange {
  return {
    start: { line: range.start.line + lines, character: range.start.character },
    end: { line: range.end.line + lines, character: range.end.character },
  };
}

/** Text for new whole lines shown after a line ("⏎" separates them: decorations are one line). */
export function insertedLinesLabel(inserted: InsertedLines): string {
  return inserted.lines.map((l) => `⏎ ${l}`).join(' ');
}

// -- the viewport ------------------------------------------------------------------------

export interface LineSpan {
  start: number;
  end: number;
}

/** Where the edit lies from what is visible: null when on screen, else the words to show. */
export function offscreenIndicator(visible: LineSpan[], plan: EditPlan): string | null {
  if (visible.some((v) => plan.firstLine <= v.end && plan.lastLine >= v.start)) return null;
  const above = visible.length > 0 && plan.lastLine < visible[0].start;
  return `${above ? '↑' : '↓'} next edit: line ${plan.anchor.line + 1}, Tab to jump`;
}

// -- keys --------------------------------------------------------------------------------

export type TabAction = 'jump' | 'accept' | 'default';

export interface TabState {
  cursor: LspPosition;
  plan: EditPlan | undefined;
  inlineSuggestionVisible: boolean;
  suggestWidgetVisible: boolean;
}

/**
 * What Tab does. An inline completion or the suggest widget keeps Tab; with a next edit shown,
 * Tab jumps to it when the cursor is elsewhere and accepts it when the cursor is on its lines.
 */
export function tabAction(s: TabState): TabAction {
  if (!s.plan || s.plan.empty || s.inlineSuggestionVisible || s.suggestWidgetVisible) return 'default';
  const onEdit = s.cursor.line >= s.plan.firstLine && s.cursor.line <= s.plan.lastLine;
  return onEdit ? 'accept' : 'jump';
}

// -- when to ask -------------------------------------------------------------------------

export interface AskState {
  enabled: boolean;
  /** file or untitled: the server sees only those. */
  scheme: string;
  /** The server refused this document (a secret or ignored file): only the user's own request
   * asks again, to be told why. */
  refused: boolean;
  /** An inline completion was returned for this version of the document. */
  inlineCompletionShown: boolean;
  /** The user asked (command): skip the automatic-only checks. */
  invoked: boolean;
}

export function shouldAsk(s: AskState): boolean {
  if (!s.invoked && !s.enabled) return false;
  if (s.scheme !== 'file' && s.scheme !== 'untitled') return false;
  if (s.refused && !s.invoked) return false;
  if (s.inlineCompletionShown && !s.invoked) return false;
  return true;
}

/** The first usable edit of a result: for this document version, and changing something. */
export function pickEdit(result: unknown, uri: string, version: number, documentText: string): { edit: InlineEdit; plan: EditPlan } | undefined {
  const edits = (result as { edits?: unknown } | null | undefined)?.edits;
  if (!Array.isArray(edits)) return undefined;
  for (const e of edits as InlineEdit[]) {
    if (!e || typeof e.text !== 'string' || !e.range || !e.textDocument) continue;
    if (!isCurrent(e, uri, version)) continue;
    const plan = planEdit(documentText, e.range, e.text);
    if (!plan.empty) return { edit: e, plan };
  }
  return undefined;
}

/** The server's reason for never proposing edits in this document (`refused` in its answer: a
 * secret or ignored file), if it gave one. */
export function refusalOf(result: unknown): string | undefined {
  const refused = (result as { refused?: unknown } | null | undefined)?.refused;
  return typeof refused === 'string' && refused ? refused : undefined;
}

/** The server's error for a file it will not send anywhere, by its message. */
export function isRefusal(error: unknown): boolean {
  const message = typeof error === 'object' && error !== null ? String((error as { message?: unknown }).message ?? '') : String(error);
  return /secret|ignored|refus|never sent/i.test(message);
}

/** Where the cursor goes after accepting: the end of the inserted text. */
export function cursorAfterAccept(range: LspRange, text: string): LspPosition {
  const inserted = lines(text);
  const last = inserted[inserted.length - 1];
  return inserted.length === 1
    ? { line: range.start.line, character: range.start.character + last.length }
    : { line: range.start.line + inserted.length - 1, character: last.length };
}

// -- the doctor --------------------------------------------------------------------------

export type NextEditProbe =
  | { file: string; ms: number; edits: number }
  | { file: string; error: string }
  | { noFile: true };

/** The doctor report's next-edit section: configured? answering (one invoked request)? */
export function doctorNextEdit(enabled: boolean, model: string, format: string, probe?: NextEditProbe): string {
  if (!enabled) {
    return 'next edits: off (set qwen.nextEdit.model to a next-edit model, or qwen.nextEdit.enabled)\n';
  }
  const lines = [`next edits: on, model ${model || "(the completion endpoint's)"}, format ${format || '(guessed from the model name)'}`];
  if (!probe || 'noFile' in probe) lines.push('  not asked: open a file, then run the doctor again to ask for a next edit there');
  else if ('error' in probe) lines.push(`  asked at ${probe.file}: FAILED: ${probe.error}`);
  else lines.push(`  asked at ${probe.file}: answered in ${probe.ms} ms with ${probe.edits === 1 ? '1 edit' : `${probe.edits} edits`}`);
  return `${lines.join('\n')}\n`;
}
