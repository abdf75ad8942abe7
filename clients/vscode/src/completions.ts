// Ghost text: the inline-completion middleware (per-language enable, auto-trigger toggle),
// and VS Code's partial accept (next word / next line) reported to the server.

import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import * as editor from './editor';
import { ShownItems, suggestionId } from './partialAccept';
import { PARTIAL_ACCEPT_NOTIFICATION, type PartialAcceptParams } from './protocol';
import { completionAllowed } from './settings';

export class Completions implements vscode.Disposable {
  readonly shown = new ShownItems();
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Per document, the version an inline completion was last returned for. */
  private readonly withItems = new Map<string, number>();
  /** Told when an inline completion is returned (a next edit then steps aside). */
  onItems?: (uri: string) => void;

  constructor(private readonly notify: (method: string, params: PartialAcceptParams) => void) {
    this.subscriptions.push(
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.shown.forget(d.uri.toString());
        this.withItems.delete(d.uri.toString());
      }),
      vscode.commands.registerCommand('qwen.acceptNextWord', () => this.partialAccept('word')),
      vscode.commands.registerCommand('qwen.acceptNextLine', () => this.partialAccept('line')),
    );
  }

  middleware(): Middleware {
    return {
      provideInlineCompletionItems: async (document, position, context, token, next) => {
        const explicit = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
        if (!completionAllowed(editor.settings(document), document.languageId, explicit)) return null;
        const result = await next(document, position, context, token);
        const items = Array.isArray(result) ? result : result?.items ?? [];
        this.shown.set(
          document.uri.toString(),
          items.map((i) => ({
            id: suggestionId(i.command),
            insertText: typeof i.insertText === 'string' ? i.insertText : i.insertText.value,
          })),
        );
        if (items.length) {
          this.withItems.set(document.uri.toString(), document.version);
          this.onItems?.(document.uri.toString());
        } else this.withItems.delete(document.uri.toString());
        return result;
      },
    };
  }

  /** Whether an inline completion was returned for this version of the document. */
  shownFor(uri: string, version: number): boolean {
    return this.withItems.get(uri) === version;
  }

  /**
   * Keystrokes typed while the server was starting got no suggestion, and VS Code asks again
   * only at the next edit: once the server is ready, ask for the active editor if its text
   * changed since activation, or (at the first start) since the window opened (unsaved changes).
   */
  askAfterStart(editedSinceActivation: boolean, firstStart: boolean): void {
    const active = vscode.window.activeTextEditor;
    if (!active || !(editedSinceActivation || (firstStart && active.document.isDirty))) return;
    if (!completionAllowed(editor.settings(active.document), active.document.languageId, false)) return;
    console.log('[qwen] asking for a suggestion typed before the server was ready');
    void editor.runCommand('editor.action.inlineSuggest.trigger');
  }

  /** Run VS Code's own partial accept, measure what it inserted, report it. */
  private async partialAccept(kind: 'word' | 'line'): Promise<void> {
    const command = kind === 'word' ? 'editor.action.inlineSuggest.acceptNextWord' : 'editor.action.inlineSuggest.acceptNextLine';
    const inserted = await editor.insertedBy(command);
    if (!inserted) return;
    const match = this.shown.accept(inserted.uri, inserted.text);
    if (match) this.notify(PARTIAL_ACCEPT_NOTIFICATION, { ...match, kind });
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
