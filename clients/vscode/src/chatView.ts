// The chat side panel: a webview view that streams `qwen/chatDelta` into rendered Markdown,
// with stop, new chat, per-workspace history and Copy / Insert / Apply on code blocks.

import * as vscode from 'vscode';
import { ChatSession, describeTarget, type ChatMessage, type SessionSnapshot } from './chatSession';
import type { ServerConnection } from './client';
import * as editor from './editor';
import { chatHtml, nonce } from './chatHtml';
import { escapeHtml, renderMarkdown } from './markdown';
import {
  APPLY_CODE_BLOCK_REQUEST,
  CHAT_DELTA_NOTIFICATION,
  CHAT_REQUEST,
  CHAT_RESET_REQUEST,
  isMethodNotFound,
  type ApplyCodeBlockResult,
  type ChatDeltaParams,
  type ChatParams,
  type ChatResult,
} from './protocol';

export const VIEW_ID = 'qwen.chatView';
const HISTORY_KEY = 'qwen.chat.session';
const NOT_SUPPORTED = 'This qwen-lsp server does not support chat yet: update it (pip install -U qwen-lsp).';

interface RenderedMessage {
  role: ChatMessage['role'];
  html: string;
  reasoningHtml?: string;
  status: ChatMessage['status'];
  note?: string;
}

function renderMessage(m: ChatMessage): RenderedMessage {
  return {
    role: m.role,
    html: m.role === 'user' ? `<p>${escapeHtml(m.text).replace(/\n/g, '<br>')}</p>` : renderMarkdown(m.text).html,
    reasoningHtml: m.reasoning ? renderMarkdown(m.reasoning).html : undefined,
    status: m.status,
    note: m.note,
  };
}

export class ChatView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view?: vscode.WebviewView;
  private readonly session: ChatSession;
  private current?: { cts: vscode.CancellationTokenSource; index: number };
  private dirty = new Set<number>();
  private timer?: ReturnType<typeof setTimeout>;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly state: vscode.Memento,
    private readonly connection: ServerConnection,
  ) {
    this.session = new ChatSession(state.get<SessionSnapshot>(HISTORY_KEY));
    connection.onNotification(CHAT_DELTA_NOTIFICATION, (p: ChatDeltaParams) => this.onDelta(p));
    this.subscriptions.push(vscode.window.registerWebviewViewProvider(VIEW_ID, this, { webviewOptions: { retainContextWhenHidden: true } }));
  }

  get sessionId(): string {
    return this.session.sessionId;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    view.webview.html = chatHtml(
      view.webview.cspSource,
      view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.js')).toString(),
      view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.css')).toString(),
      nonce(),
    );
    view.webview.onDidReceiveMessage((msg) => void this.onMessage(msg), undefined, this.subscriptions);
    this.viewReady = false;
    view.onDidDispose(() => {
      this.view = undefined;
      this.viewReady = false;
    }, undefined, this.subscriptions);
  }

  private viewReady = false;
  private pendingFocus?: { type: 'focus'; context?: string };

  async reveal(): Promise<void> {
    await editor.runCommand(`${VIEW_ID}.focus`);
  }

  /** Open the panel with the editor's selection as the next question's context, and put the
   * cursor in the message box (the selection goes along with whatever is asked next). */
  async sendSelection(): Promise<void> {
    const target = editor.targetEditor();
    await this.reveal();
    const about = target?.selection ? describeTarget({ uri: target.uri, range: target.selection }).replace(/`/g, '') : undefined;
    // A panel opened just now has no script running yet: it gets the message once it is ready.
    this.pendingFocus = { type: 'focus', context: about };
    if (this.viewReady) this.flushFocus();
  }

  private flushFocus(): void {
    if (this.pendingFocus && this.view) void this.view.webview.postMessage(this.pendingFocus);
    this.pendingFocus = undefined;
  }

  private async onMessage(msg: { type?: string; [k: string]: unknown }): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.viewReady = true;
        this.postState();
        this.flushFocus();
        console.log('[qwen] chat view ready');
        break;
      case 'send':
        if (typeof msg.text === 'string' && msg.text.trim()) await this.ask(msg.text.trim());
        break;
      case 'stop':
        this.stop();
        break;
      case 'new':
        await this.newChat();
        break;
      case 'code':
        await this.onCodeAction(String(msg.action), Number(msg.message), Number(msg.block));
        break;
      case 'link':
        if (typeof msg.href === 'string') await editor.openExternal(msg.href);
        break;
    }
  }

  /** Ask a question from the panel, with the active editor's selection as context. */
  async ask(text: string): Promise<void> {
    if (this.session.busy) return;
    const target = editor.targetEditor();
    const params: ChatParams = {
      sessionId: this.session.sessionId,
      message: text,
      context: target ? { uri: target.uri, range: target.selection, includeRepoContext: true } : { includeRepoContext: true },
    };
    await this.stream(text, (token) => this.connection.request<ChatResult>(CHAT_REQUEST, params, token));
  }

  /** Show a question and stream its answer; `run` makes the request. */
  async stream(label: string, run: (token: vscode.CancellationToken) => Promise<unknown>): Promise<void> {
    const index = this.session.ask(label);
    const cts = new vscode.CancellationTokenSource();
    this.current = { cts, index };
    this.postState();
    try {
      const result = await run(cts.token);
      const final =
        typeof result === 'string'
          ? { text: result }
          : result && typeof result === 'object'
            ? { text: (result as ChatResult).text, requestId: (result as ChatResult).requestId }
            : {};
      this.session.finish(index, cts.token.isCancellationRequested ? 'stopped' : 'done', final);
      const msg = this.session.messages[index];
      if (msg && !msg.text) msg.note ??= 'Done.';
    } catch (err) {
      if (cts.token.isCancellationRequested) this.session.finish(index, 'stopped');
      else if (isMethodNotFound(err)) this.session.finish(index, 'error', { note: NOT_SUPPORTED });
      else this.session.finish(index, 'error', { note: err instanceof Error ? err.message : String(err) });
    } finally {
      if (this.current?.index === index) this.current = undefined;
      cts.dispose();
      void this.state.update(HISTORY_KEY, this.session.snapshot());
      this.postState();
    }
  }

  stop(): void {
    this.current?.cts.cancel();
    if (this.current) this.session.finish(this.current.index, 'stopped');
    this.postState();
  }

  async newChat(): Promise<void> {
    this.stop();
    const old = this.session.sessionId;
    this.session.reset();
    await this.state.update(HISTORY_KEY, this.session.snapshot());
    this.postState();
    if (this.connection.running) {
      await this.connection.request(CHAT_RESET_REQUEST, { sessionId: old }).catch(() => undefined);
    }
  }

  private onDelta(p: ChatDeltaParams): void {
    if (p.sessionId !== this.session.sessionId) return;
    const index = this.session.delta(p.requestId, p.delta, p.kind);
    if (index < 0) return;
    this.dirty.add(index);
    this.timer ??= setTimeout(() => this.flush(), 40);
  }

  private flush(): void {
    this.timer = undefined;
    for (const index of this.dirty) {
      const m = this.session.messages[index];
      if (m) void this.view?.webview.postMessage({ type: 'update', index, message: renderMessage(m) });
    }
    this.dirty.clear();
  }

  private postState(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty.clear();
    void this.view?.webview.postMessage({
      type: 'state',
      busy: this.session.busy,
      messages: this.session.messages.map(renderMessage),
    });
  }

  private async onCodeAction(action: string, messageIndex: number, blockIndex: number): Promise<void> {
    const msg = this.session.messages[messageIndex];
    const block = msg ? renderMarkdown(msg.text).blocks[blockIndex] : undefined;
    if (!block) return;
    if (action === 'copy') {
      await editor.copy(block.code);
    } else if (action === 'insert') {
      if (!(await editor.insertAtCursor(block.code))) void editor.warn('Qwen: open an editor to insert the code into.');
    } else if (action === 'apply') {
      const target = editor.targetEditor();
      if (!target) {
        void editor.warn('Qwen: open the file to apply the code to.');
        return;
      }
      try {
        const res = await this.connection.request<ApplyCodeBlockResult>(APPLY_CODE_BLOCK_REQUEST, {
          uri: target.uri,
          range: target.selection,
          code: block.code,
        });
        if (!res?.applied) void editor.warn(`Qwen: the code was not applied${res?.reason ? `: ${res.reason}` : '.'}`);
      } catch (err) {
        void editor.warn(isMethodNotFound(err) ? NOT_SUPPORTED : `Qwen: apply failed: ${err instanceof Error ? err.message : err}`);
      }
    }
  }

  dispose(): void {
    this.current?.cts.cancel();
    for (const s of this.subscriptions) s.dispose();
  }
}
