// Chat session state: messages, streaming deltas, history. Pure, no editor imports.

import type { ActionArgs } from './protocol';

export type MessageStatus = 'streaming' | 'done' | 'stopped' | 'error';

export interface ChatMessage {
  role: 'user' | 'assistant';
  text: string;
  reasoning?: string;
  status: MessageStatus;
  requestId?: string;
  /** Why the answer ended early (error text). */
  note?: string;
}

export interface SessionSnapshot {
  sessionId: string;
  messages: ChatMessage[];
}

/** At most this many messages are kept in workspace history. */
export const HISTORY_LIMIT = 100;

export function newSessionId(random: () => string = () => Math.random().toString(36).slice(2, 10)): string {
  return `vscode-${Date.now().toString(36)}-${random()}`;
}

export class ChatSession {
  sessionId: string;
  messages: ChatMessage[];

  constructor(snapshot?: SessionSnapshot, makeId: () => string = newSessionId) {
    this.sessionId = snapshot?.sessionId ?? makeId();
    // An answer that was streaming when the window closed is over now.
    this.messages = (snapshot?.messages ?? []).map((m) =>
      m.status === 'streaming' ? { ...m, status: 'stopped' as const } : { ...m },
    );
  }

  get busy(): boolean {
    return this.messages.some((m) => m.status === 'streaming');
  }

  /** Add the user's message and an empty streaming answer; return the answer's index. */
  ask(text: string): number {
    this.messages.push({ role: 'user', text, status: 'done' });
    this.messages.push({ role: 'assistant', text: '', status: 'streaming' });
    return this.messages.length - 1;
  }

  /** Apply a streamed delta; return the index of the message it changed, or -1. */
  delta(requestId: string, delta: string, kind?: string): number {
    let index = this.messages.findIndex((m) => m.role === 'assistant' && m.requestId === requestId);
    if (index < 0) {
      // The first delta names the request of the answer still waiting for one.
      index = this.messages.findIndex((m) => m.role === 'assistant' && m.status === 'streaming' && !m.requestId);
      if (index < 0) return -1;
      this.messages[index].requestId = requestId;
    }
    const msg = this.messages[index];
    if (msg.status !== 'streaming') return -1;
    if (kind === 'reasoning') msg.reasoning = (msg.reasoning ?? '') + delta;
    else msg.text += delta;
    return index;
  }

  /** End an answer: with the final text when the server sent one. */
  finish(index: number, status: MessageStatus, final?: { text?: string; requestId?: string; note?: string }): void {
    const msg = this.messages[index];
    if (!msg || msg.status !== 'streaming') return;
    msg.status = status;
    if (final?.text !== undefined && final.text !== '') msg.text = final.text;
    if (final?.requestId) msg.requestId = final.requestId;
    if (final?.note) msg.note = final.note;
  }

  reset(makeId: () => string = newSessionId): void {
    this.sessionId = makeId();
    this.messages = [];
  }

  snapshot(): SessionSnapshot {
    return { sessionId: this.sessionId, messages: this.messages.slice(-HISTORY_LIMIT) };
  }
}

/** How an action's target is shown in the panel: `file.py:3-9` (1-based lines). */
export function describeTarget(args: ActionArgs): string {
  const file = decodeURIComponent(args.uri.split('/').pop() ?? args.uri);
  const { start, end } = args.range;
  const lines = start.line === end.line ? `${start.line + 1}` : `${start.line + 1}-${end.line + 1}`;
  return `\`${file}:${lines}\``;
}
