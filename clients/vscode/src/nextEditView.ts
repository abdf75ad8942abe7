// Next-edit suggestions in the editor: when to ask the server (`textDocument/copilotInlineEdit`),
// how the proposed edit is drawn (decorations in the diff colours), and Tab / Escape.
// The decisions live in src/nextEdit.ts; this module only talks to VS Code.

import * as vscode from 'vscode';
import type { ServerConnection } from './client';
import * as editor from './editor';
import {
  cursorAfterAccept,
  DID_REJECT_INLINE_EDIT,
  DID_SHOW_INLINE_EDIT,
  INLINE_EDIT_REQUEST,
  insertedLinesLabel,
  isRefusal,
  offscreenIndicator,
  pickEdit,
  refusalOf,
  shouldAsk,
  tabAction,
  TRIGGER_AUTOMATIC,
  TRIGGER_INVOKED,
  type EditPlan,
  type InlineEdit,
  type InlineEditParams,
  type RejectReason,
} from './nextEdit';
import { EXECUTE_COMMAND_REQUEST, type LspPosition, type LspRange } from './protocol';
import { nextEditEnabled } from './settings';

const CONTEXT_KEY = 'qwen.nextEditVisible';
/** A keystroke changes the text and the selection: one request for both. The pause before
 * the model is asked is the server's (`qwen.nextEdit.debounceMs`), not added to here. */
const COALESCE_MS = 15;

interface Shown {
  editor: vscode.TextEditor;
  edit: InlineEdit;
  plan: EditPlan;
}

export type NextEditState = { kind: 'idle' } | { kind: 'requesting' } | { kind: 'shown'; line: number };

const pos = (p: LspPosition) => new vscode.Position(p.line, p.character);
const range = (r: LspRange) => new vscode.Range(pos(r.start), pos(r.end));

export class NextEdits implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly deleted: vscode.TextEditorDecorationType;
  private readonly inserted: vscode.TextEditorDecorationType;
  private readonly lineMark: vscode.TextEditorDecorationType;
  private readonly indicator: vscode.TextEditorDecorationType;
  /** Documents the server refused (by URI): not asked automatically again until closed. */
  private readonly refused = new Set<string>();
  private shown?: Shown;
  private pending?: vscode.CancellationTokenSource;
  private timer?: ReturnType<typeof setTimeout>;
  /** A change this extension makes itself (accepting), not the user typing. */
  private applying = false;

  constructor(
    private readonly connection: ServerConnection,
    private readonly inlineCompletionShown: (uri: string, version: number) => boolean,
    private readonly onState: (state: NextEditState) => void,
    extensionUri: vscode.Uri,
  ) {
    const inserted = new vscode.ThemeColor('qwen.nextEdit.insertedTextBackground');
    const ruler = new vscode.ThemeColor('qwen.nextEdit.gutterForeground');
    this.deleted = vscode.window.createTextEditorDecorationType({
      backgroundColor: new vscode.ThemeColor('qwen.nextEdit.removedTextBackground'),
      textDecoration: 'line-through',
    });
    this.inserted = vscode.window.createTextEditorDecorationType({
      before: { backgroundColor: inserted, color: new vscode.ThemeColor('qwen.nextEdit.insertedTextForeground') },
    });
    this.lineMark = vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      gutterIconPath: vscode.Uri.joinPath(extensionUri, 'media', 'next-edit.svg'),
      gutterIconSize: 'contain',
      overviewRulerColor: ruler,
      overviewRulerLane: vscode.OverviewRulerLane.Right,
      after: { backgroundColor: inserted, color: new vscode.ThemeColor('qwen.nextEdit.insertedTextForeground'), margin: '0 0 0 1em' },
    });
    this.indicator = vscode.window.createTextEditorDecorationType({
      after: { color: ruler, margin: '0 0 0 2em', fontStyle: 'italic' },
    });
    this.subscriptions.push(
      this.deleted,
      this.inserted,
      this.lineMark,
      this.indicator,
      vscode.commands.registerCommand('qwen.requestNextEdit', () => this.request(vscode.window.activeTextEditor, true)),
      vscode.commands.registerCommand('qwen.nextEdit.tab', () => this.tab()),
      vscode.commands.registerCommand('qwen.nextEdit.dismiss', () => this.clear('dismissed')),
      vscode.workspace.onDidChangeTextDocument((e) => this.onTyped(e)),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onSelection(e)),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
        if (e.textEditor === this.shown?.editor) this.drawIndicator();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.clear('dismissed')),
      vscode.workspace.onDidCloseTextDocument((d) => this.refused.delete(d.uri.toString())),
    );
  }

  /** An inline completion arrived for this document version: it wins over a next edit. */
  onInlineCompletion(uri: string): void {
    if (this.shown?.editor.document.uri.toString() === uri) this.clear('superseded');
  }

  private onTyped(e: vscode.TextDocumentChangeEvent): void {
    if (this.applying || !e.contentChanges.length) return;
    const active = vscode.window.activeTextEditor;
    if (this.shown && e.document === this.shown.editor.document) this.clear('typed');
    if (active && e.document === active.document) this.schedule(active);
  }

  private onSelection(e: vscode.TextEditorSelectionChangeEvent): void {
    if (this.applying || e.textEditor !== vscode.window.activeTextEditor) return;
    // With an edit on screen the user may be on the way to it: keep it, do not ask again.
    if (this.shown) return;
    if (e.kind === vscode.TextEditorSelectionChangeKind.Command) return; // our own jumps, undo
    this.schedule(e.textEditor);
  }

  private schedule(target: vscode.TextEditor): void {
    if (this.timer) clearTimeout(this.timer);
    this.pending?.cancel();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.request(target, false);
    }, COALESCE_MS);
  }

  /** Ask the server for a next edit at the cursor; `invoked` when the user asked. */
  async request(target: vscode.TextEditor | undefined, invoked: boolean): Promise<void> {
    if (!target) return;
    const doc = target.document;
    const uri = doc.uri.toString();
    const ask = shouldAsk({
      enabled: nextEditEnabled(editor.settings()),
      scheme: doc.uri.scheme,
      refused: this.refused.has(uri),
      inlineCompletionShown: this.inlineCompletionShown(uri, doc.version),
      invoked,
    });
    if (!ask || (!invoked && !this.connection.running)) return;
    this.pending?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.pending = cts;
    const version = doc.version;
    const cursor = target.selection.active;
    const params: InlineEditParams = {
      textDocument: { uri, version },
      position: { line: cursor.line, character: cursor.character },
      context: { triggerKind: invoked ? TRIGGER_INVOKED : TRIGGER_AUTOMATIC },
    };
    this.onState({ kind: 'requesting' });
    let result: unknown;
    try {
      result = await this.connection.request<unknown>(INLINE_EDIT_REQUEST, params, cts.token);
    } catch (err) {
      if (isRefusal(err)) this.refused.add(uri);
      else if (!cts.token.isCancellationRequested) console.log(`[qwen] next edit request failed: ${err instanceof Error ? err.message : err}`);
      if (invoked && !cts.token.isCancellationRequested) void editor.info(`Qwen: no next edit: ${err instanceof Error ? err.message : err}`);
      return this.settle(cts);
    }
    const refusal = refusalOf(result);
    if (refusal) {
      this.refused.add(uri); // no more automatic requests for this document
      if (invoked && !cts.token.isCancellationRequested) void editor.info(`Qwen: no next edits in this file: ${refusal}`);
      return this.settle(cts);
    }
    if (cts.token.isCancellationRequested || doc.version !== version || vscode.window.activeTextEditor !== target) return this.settle(cts);
    // Fresh text: the document may have changed between request and answer (checked above).
    const picked = pickEdit(result, uri, doc.version, doc.getText());
    if (!picked || (!invoked && this.inlineCompletionShown(uri, doc.version))) {
      if (invoked && !picked) void editor.info('Qwen: no next edit here.');
      return this.settle(cts);
    }
    if (this.shown) this.clear('superseded');
    this.shown = { editor: target, ...picked };
    this.draw();
    this.connection.notify(DID_SHOW_INLINE_EDIT, { item: picked.edit });
    console.log(`[qwen] next edit shown at line ${picked.plan.anchor.line + 1}`);
    this.settle(cts);
  }

  private settle(cts: vscode.CancellationTokenSource): void {
    if (this.pending === cts) this.pending = undefined;
    cts.dispose();
    this.onState(this.shown ? { kind: 'shown', line: this.shown.plan.anchor.line } : { kind: 'idle' });
  }

  private draw(): void {
    const s = this.shown;
    if (!s) return;
    const { plan } = s;
    s.editor.setDecorations(this.deleted, plan.deleted.map((d) => range(d.range)));
    s.editor.setDecorations(this.inserted, plan.inserted.map((i) => ({
      range: new vscode.Range(pos(i.at), pos(i.at)),
      renderOptions: { before: { contentText: i.text } },
    })));
    const marks: vscode.DecorationOptions[] = [];
    for (let line = plan.firstLine; line <= plan.lastLine; line++) {
      const added = plan.insertedLines.find((l) => l.after === line);
      const end = s.editor.document.lineAt(Math.min(line, s.editor.document.lineCount - 1)).range.end;
      marks.push({
        // At the end of the line: an `after` text shows after the range.
        range: new vscode.Range(end, end),
        renderOptions: added ? { after: { contentText: insertedLinesLabel(added) } } : undefined,
        hoverMessage: line === plan.firstLine ? new vscode.MarkdownString('Qwen next edit: **Tab** jumps to it, then accepts it; **Escape** dismisses it.') : undefined,
      });
    }
    s.editor.setDecorations(this.lineMark, marks);
    void editor.runCommand('setContext', CONTEXT_KEY, true);
    this.drawIndicator();
  }

  /** An edit off screen gets a note at the end of the cursor's line. */
  private drawIndicator(): void {
    const s = this.shown;
    if (!s) return;
    const visible = s.editor.visibleRanges.map((v) => ({ start: v.start.line, end: v.end.line }));
    const text = offscreenIndicator(visible, s.plan);
    const end = s.editor.document.lineAt(s.editor.selection.active.line).range.end;
    s.editor.setDecorations(this.indicator, text ? [{ range: new vscode.Range(end, end), renderOptions: { after: { contentText: text } } }] : []);
  }

  private undraw(target: vscode.TextEditor): void {
    for (const d of [this.deleted, this.inserted, this.lineMark, this.indicator]) target.setDecorations(d, []);
    void editor.runCommand('setContext', CONTEXT_KEY, false);
  }

  /** Take the edit off the screen; report why unless it was accepted. */
  clear(reason?: RejectReason): void {
    const s = this.shown;
    if (!s) return;
    this.shown = undefined;
    this.undraw(s.editor);
    if (reason) this.connection.notify(DID_REJECT_INLINE_EDIT, { item: s.edit, reason });
    this.onState({ kind: 'idle' });
  }

  private async tab(): Promise<void> {
    const s = this.shown;
    const active = vscode.window.activeTextEditor;
    const cursor = active?.selection.active;
    const action = s && active === s.editor && cursor
      ? tabAction({ cursor: { line: cursor.line, character: cursor.character }, plan: s.plan, inlineSuggestionVisible: false, suggestWidgetVisible: false })
      : 'default';
    if (!s || action === 'default') {
      await editor.runCommand('tab');
      return;
    }
    if (action === 'jump') {
      const at = pos(s.plan.anchor);
      s.editor.selection = new vscode.Selection(at, at);
      s.editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      this.drawIndicator();
      return;
    }
    await this.accept(s);
  }

  private async accept(s: Shown): Promise<void> {
    const doc = s.editor.document;
    if (doc.version !== s.edit.textDocument.version) {
      this.clear('typed');
      return;
    }
    // Off the screen first, so no decoration is left over the new text for a moment.
    this.shown = undefined;
    this.undraw(s.editor);
    this.onState({ kind: 'idle' });
    this.applying = true;
    let applied = false;
    try {
      // One edit call: one undo step restores the text exactly.
      applied = await s.editor.edit((b) => b.replace(range(s.edit.range), s.edit.text));
      if (applied) {
        const at = pos(cursorAfterAccept(s.edit.range, s.edit.text));
        s.editor.selection = new vscode.Selection(at, at);
      }
    } finally {
      this.applying = false;
    }
    if (!applied) return;
    console.log('[qwen] next edit accepted');
    const command = s.edit.command;
    if (command) {
      try {
        await this.connection.request(EXECUTE_COMMAND_REQUEST, { command: command.command, arguments: command.arguments ?? [] });
      } catch (err) {
        console.log(`[qwen] ${command.command} failed: ${err instanceof Error ? err.message : err}`);
      }
    }
    // An accepted edit often leads to the next one.
    this.schedule(s.editor);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.pending?.cancel();
    for (const s of this.subscriptions) s.dispose();
  }
}
