// The editor, wrapped: every call this extension makes into VS Code's window, workspace,
// secrets and clipboard goes through here, so the other modules stay small and testable.

import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import type { SettingsReader } from './settings';
import type { LspPosition, LspRange } from './protocol';

export const SECRET_KEY = 'qwen.apiKey';

/** Settings below `qwen`, for a document's language when given. */
export function settings(scope?: vscode.TextDocument): SettingsReader {
  const config = vscode.workspace.getConfiguration('qwen', scope ? { uri: scope.uri, languageId: scope.languageId } : undefined);
  return {
    get: <T>(key: string) => config.get<T>(key),
    isSet: (key: string) => {
      const i = config.inspect(key);
      return [i?.globalValue, i?.workspaceValue, i?.workspaceFolderValue, i?.globalLanguageValue,
        i?.workspaceLanguageValue, i?.workspaceFolderLanguageValue].some((v) => v !== undefined);
    },
  };
}

export async function updateGlobalSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('qwen').update(key, value, vscode.ConfigurationTarget.Global);
}

export function isTrusted(): boolean {
  return vscode.workspace.isTrusted;
}

export interface Selection {
  uri: string;
  range: LspRange;
  text: string;
  languageId: string;
}

function toLspRange(range: vscode.Range): LspRange {
  return {
    start: { line: range.start.line, character: range.start.character },
    end: { line: range.end.line, character: range.end.character },
  };
}

/** The active editor's selection; with nothing selected, the current line. */
export function activeSelection(wholeLineIfEmpty = true): Selection | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
  let range: vscode.Range = editor.selection;
  if (range.isEmpty && wholeLineIfEmpty) range = editor.document.lineAt(range.start.line).range;
  return {
    uri: editor.document.uri.toString(),
    range: toLspRange(range),
    text: editor.document.getText(range),
    languageId: editor.document.languageId,
  };
}

/** The active text editor's document and cursor, for a request about it. */
export function activeCursor(): { uri: string; version: number; position: LspPosition; scheme: string; name: string } | undefined {
  const e = vscode.window.activeTextEditor;
  if (!e) return undefined;
  const p = e.selection.active;
  return {
    uri: e.document.uri.toString(),
    version: e.document.version,
    position: { line: p.line, character: p.character },
    scheme: e.document.uri.scheme,
    name: `${e.document.uri.path.split('/').pop()}:${p.line + 1}`,
  };
}

/** The editor last focused, which stays known while the chat panel has focus. */
let lastEditor: vscode.TextEditor | undefined;
export function trackLastEditor(): vscode.Disposable {
  lastEditor = vscode.window.activeTextEditor;
  return vscode.window.onDidChangeActiveTextEditor((e) => {
    if (e) lastEditor = e;
  });
}

export function targetEditor(): { uri: string; selection?: LspRange } | undefined {
  const editor = vscode.window.activeTextEditor ?? lastEditor;
  if (!editor) return undefined;
  return {
    uri: editor.document.uri.toString(),
    selection: editor.selection.isEmpty ? undefined : toLspRange(editor.selection),
  };
}

export async function insertAtCursor(text: string): Promise<boolean> {
  const editor = vscode.window.activeTextEditor ?? lastEditor;
  if (!editor) return false;
  return editor.edit((b) => {
    for (const sel of editor.selections) b.replace(sel, text);
  });
}

export async function copy(text: string): Promise<void> {
  await vscode.env.clipboard.writeText(text);
}

export async function openExternal(url: string): Promise<void> {
  if (/^https?:/i.test(url)) await vscode.env.openExternal(vscode.Uri.parse(url));
}

export function info(message: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showInformationMessage(message, ...actions);
}

export function warn(message: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showWarningMessage(message, ...actions);
}

export function error(message: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showErrorMessage(message, ...actions);
}

export function ask(prompt: string, placeHolder?: string, password = false): Thenable<string | undefined> {
  return vscode.window.showInputBox({ prompt, placeHolder, password, ignoreFocusOut: true });
}

export function pick<T extends vscode.QuickPickItem>(items: T[], placeHolder: string): Thenable<T | undefined> {
  return vscode.window.showQuickPick(items, { placeHolder });
}

/** Run `task` under a progress notification with a Cancel button; cancelled -> undefined. */
export async function withCancellableProgress<T>(title: string, task: (token: vscode.CancellationToken) => Promise<T>): Promise<T | undefined> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (_p, token) => {
    try {
      return await task(token);
    } catch (err) {
      if (token.isCancellationRequested) return undefined;
      throw err;
    }
  });
}

export function openSettings(): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openSettings', '@ext:qwen-lsp.qwen-lsp');
}

export function runCommand<T = unknown>(command: string, ...args: unknown[]): Thenable<T> {
  return vscode.commands.executeCommand<T>(command, ...args);
}

export interface ProgramResult {
  /** Exit code; null when the program could not start, was killed or timed out. */
  code: number | null;
  /** What it wrote (stdout, then stderr), or why it did not run. */
  output: string;
}

/** Run a program to its end with extra environment variables (never echoed), and collect what
 * it wrote. Cancelling the token stops it. */
export function runProgram(command: string, args: string[], env: Record<string, string>, timeoutMs: number,
  token?: vscode.CancellationToken): Promise<ProgramResult> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 4 << 20 },
      (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`;
        if (!err) resolve({ code: 0, output: out });
        else if (typeof err.code === 'number') resolve({ code: err.code, output: out });
        else resolve({ code: null, output: `${out}${out ? '\n' : ''}${command} did not run to its end: ${err.message}\n` });
      });
    token?.onCancellationRequested(() => child.kill());
  });
}

export async function showDocument(content: string, language: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ content, language });
  await vscode.window.showTextDocument(doc, { preview: true });
}

export class Secrets {
  constructor(private readonly storage: vscode.SecretStorage) {}
  get(): Thenable<string | undefined> {
    return this.storage.get(SECRET_KEY);
  }
  set(value: string): Thenable<void> {
    return this.storage.store(SECRET_KEY, value);
  }
  delete(): Thenable<void> {
    return this.storage.delete(SECRET_KEY);
  }
  onDidChange(listener: () => void): vscode.Disposable {
    return this.storage.onDidChange((e) => {
      if (e.key === SECRET_KEY) listener();
    });
  }
}

export function onSettingsChanged(listener: (affects: (key: string) => boolean) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => listener((key) => e.affectsConfiguration(key)));
}

/**
 * Run an editor command and return the text it inserted into the active document
 * (used to measure VS Code's own partial accept).
 */
export async function insertedBy(command: string): Promise<{ uri: string; text: string } | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    await vscode.commands.executeCommand(command);
    return undefined;
  }
  const doc = editor.document;
  let text = '';
  const sub = vscode.workspace.onDidChangeTextDocument((e) => {
    if (e.document === doc) for (const c of e.contentChanges) text += c.text;
  });
  try {
    await vscode.commands.executeCommand(command);
  } finally {
    sub.dispose();
  }
  return { uri: doc.uri.toString(), text };
}

