// Status: folds `qwen/status`, work-done progress and the client's own lifecycle into one view.
// Pure: the status bar module renders what `view()` returns.

import type { StatusParams } from './protocol';

export type ClientState = 'starting' | 'running' | 'stopped' | 'failed';

export interface StatusView {
  /** Status bar text with codicons. */
  text: string;
  tooltip: string;
  /** Drives the item's background colour. */
  severity: 'normal' | 'warning' | 'error';
  /** Short state name, also used by tests. */
  state: 'starting' | 'idle' | 'indexing' | 'requesting' | 'next-edit' | 'error' | 'stopped' | 'disabled';
}

interface Progress {
  title: string;
  percentage?: number;
  message?: string;
}

export interface ProgressValue {
  kind: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  percentage?: number;
}

export class StatusModel {
  private client: ClientState = 'starting';
  private clientError?: string;
  private server?: StatusParams;
  private readonly progress = new Map<string, Progress>();
  private enabled = true;
  private nextEdit: { kind: 'idle' } | { kind: 'requesting' } | { kind: 'shown'; line: number } = { kind: 'idle' };

  /** A next edit being asked for, or shown at a line (0-based). */
  setNextEdit(state: { kind: 'idle' } | { kind: 'requesting' } | { kind: 'shown'; line: number }): void {
    this.nextEdit = state;
  }

  setClient(state: ClientState, error?: string): void {
    this.client = state;
    this.clientError = error;
    if (state !== 'running') {
      this.progress.clear();
      this.server = undefined;
    }
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
  }

  onStatus(params: StatusParams): void {
    this.server = params;
  }

  onProgress(token: string | number, value: ProgressValue): void {
    const key = String(token);
    if (value.kind === 'end') {
      this.progress.delete(key);
      return;
    }
    const prev = this.progress.get(key);
    this.progress.set(key, {
      title: value.title ?? prev?.title ?? 'working',
      percentage: value.percentage ?? prev?.percentage,
      message: value.message ?? prev?.message,
    });
  }

  view(): StatusView {
    const where = this.describeEndpoint();
    if (this.client === 'failed') {
      return {
        text: '$(error) Qwen',
        tooltip: `Qwen: the language server is not running${this.clientError ? `: ${this.clientError}` : ''}. Click for options.`,
        severity: 'error',
        state: 'error',
      };
    }
    if (this.client === 'stopped') {
      return { text: '$(circle-slash) Qwen', tooltip: 'Qwen: server stopped', severity: 'warning', state: 'stopped' };
    }
    if (this.client === 'starting') {
      return { text: '$(loading~spin) Qwen', tooltip: 'Qwen: starting the language server', severity: 'normal', state: 'starting' };
    }
    const indexing = [...this.progress.values()][0];
    if (indexing || this.server?.state === 'indexing') {
      const pct = indexing?.percentage !== undefined ? ` ${Math.round(indexing.percentage)}%` : '';
      const detail = indexing ? `${indexing.title}${indexing.message ? `: ${indexing.message}` : ''}` : this.server?.message ?? 'indexing';
      return { text: `$(sync~spin) Qwen: indexing${pct}`, tooltip: `Qwen: ${detail}${where}`, severity: 'normal', state: 'indexing' };
    }
    if (this.server?.state === 'error') {
      return {
        text: '$(warning) Qwen',
        tooltip: `Qwen: ${this.server.message ?? 'endpoint error'}${where}`,
        severity: 'warning',
        state: 'error',
      };
    }
    if (this.nextEdit.kind === 'shown') {
      const line = this.nextEdit.line + 1;
      return { text: `$(arrow-right) Qwen: next edit line ${line}`, tooltip: `Qwen: next edit at line ${line}: Tab jumps to it, then accepts it; Escape dismisses it${where}`, severity: 'normal', state: 'next-edit' };
    }
    if (this.server?.state === 'requesting' || this.nextEdit.kind === 'requesting') {
      const what = this.server?.state === 'requesting' ? 'asking the model' : 'asking for a next edit';
      return { text: '$(loading~spin) Qwen', tooltip: `Qwen: ${what}${where}`, severity: 'normal', state: 'requesting' };
    }
    if (!this.enabled) {
      return { text: '$(circle-slash) Qwen', tooltip: `Qwen: inline completions off${where}`, severity: 'normal', state: 'disabled' };
    }
    return { text: '$(sparkle) Qwen', tooltip: `Qwen: ready${where}`, severity: 'normal', state: 'idle' };
  }

  private describeEndpoint(): string {
    const s = this.server;
    if (!s?.endpoint) return '';
    const model = s.model ? `, model ${s.model}` : '';
    const provider = s.provider ? ` (${s.provider})` : '';
    return `\n${s.endpoint}${provider}${model}`;
  }
}
