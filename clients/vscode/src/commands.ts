// Commands: API key, restart, log, toggles, status menu, doctor, stats, and the editor
// actions: Explain answers in the chat panel; Refactor…, Add docstring, Generate tests and the
// other editing actions come back as a workspace edit that the user confirms.

import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import type { ChatView } from './chatView';
import { describeTarget } from './chatSession';
import type { ServerConnection } from './client';
import * as editor from './editor';
import {
  EDIT_COMMANDS,
  EXECUTE_COMMAND_REQUEST,
  EXPLAIN_COMMAND,
  STATS_REQUEST,
  type ActionArgs,
  type EditCommand,
  type EditResult,
} from './protocol';
import { doctorNextEdit, INLINE_EDIT_REQUEST, TRIGGER_INVOKED, type InlineEditParams } from './nextEdit';
import { nextEditEnabled, serverLaunch, serverSettings } from './settings';

/** The doctor bounds each of its checks; this only stops one that hangs outright. */
const DOCTOR_TIMEOUT_MS = 120_000;

const EDIT_TITLES: Record<EditCommand, string> = {
  'qwen.refactor': 'Refactoring',
  'qwen.simplify': 'Simplifying',
  'qwen.addTypeHints': 'Adding type hints',
  'qwen.addDocstring': 'Adding a docstring',
  'qwen.generateTests': 'Generating tests',
  'qwen.fix': 'Fixing',
};

function isEdit(command: string): command is EditCommand {
  return (EDIT_COMMANDS as readonly string[]).includes(command);
}

export class Commands implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly connection: ServerConnection,
    private readonly secrets: editor.Secrets,
    private readonly output: vscode.LogOutputChannel,
    private readonly chat: ChatView,
    private readonly onToggle: () => void,
  ) {
    const register = (id: string, fn: (...args: any[]) => unknown) =>
      this.subscriptions.push(vscode.commands.registerCommand(id, fn));
    register('qwen.setApiKey', () => this.setApiKey());
    register('qwen.clearApiKey', async () => {
      await this.secrets.delete();
      void editor.info('Qwen: API key removed.');
    });
    register('qwen.restartServer', () => this.connection.restart('asked by the user'));
    register('qwen.showLog', () => this.output.show());
    register('qwen.toggleCompletions', () => this.toggle('completion.enabled'));
    register('qwen.toggleAutoTrigger', () => this.toggle('completion.autoTrigger'));
    register('qwen.statusMenu', () => this.statusMenu());
    register('qwen.doctor', () => this.doctor());
    register('qwen.showStats', () => this.stats());
    register('qwen.chat.focus', () => this.chat.reveal());
    register('qwen.chat.new', () => this.chat.newChat());
    register('qwen.editor.explain', () => this.runEditorAction('qwen.explain'));
    register('qwen.editor.refactor', () => this.runEditorAction('qwen.refactor'));
    register('qwen.editor.addDocstring', () => this.runEditorAction('qwen.addDocstring'));
    register('qwen.editor.generateTests', () => this.runEditorAction('qwen.generateTests'));
    register('qwen.editor.simplify', () => this.runEditorAction('qwen.simplify'));
    register('qwen.editor.addTypeHints', () => this.runEditorAction('qwen.addTypeHints'));
    register('qwen.editor.fix', () => this.runEditorAction('qwen.fix'));
    register('qwen.chat.sendSelection', () => this.chat.sendSelection());
  }

  /**
   * Server commands (also those behind code actions) go through here: Explain answers in the
   * chat panel, edit commands run under a cancellable progress notification. Both are sent
   * with a cancellation token, so Stop / Cancel reach the server as `$/cancelRequest`.
   */
  middleware(): Middleware {
    return {
      executeCommand: async (command, args, next) => {
        if (command !== EXPLAIN_COMMAND && !isEdit(command)) return next(command, args);
        const first = { ...((args[0] ?? {}) as ActionArgs) };
        const send = (token: vscode.CancellationToken) =>
          this.connection.request<unknown>(EXECUTE_COMMAND_REQUEST, { command, arguments: [first, ...args.slice(1)] }, token);
        if (command === EXPLAIN_COMMAND) {
          first.sessionId = this.chat.sessionId;
          const what = first.uri && first.range ? describeTarget(first) : 'the selection';
          await this.chat.reveal();
          let result: unknown;
          await this.chat.stream(`Explain ${what}`, async (token) => (result = await send(token)));
          return result;
        }
        if (command === 'qwen.refactor' && !first.instruction) {
          const instruction = await editor.ask('How should Qwen refactor this code?', 'e.g. use a list comprehension');
          if (!instruction?.trim()) return undefined;
          first.instruction = instruction.trim();
        }
        const result = await editor.withCancellableProgress(`Qwen: ${EDIT_TITLES[command]}…`, send);
        const edit = result as EditResult | undefined;
        if (edit && edit.applied === false && edit.reason) this.output.info(`${command}: not applied: ${edit.reason}`);
        return result;
      },
    };
  }

  private async runEditorAction(command: string): Promise<unknown> {
    const sel = editor.activeSelection(false);
    if (!sel) {
      void editor.warn('Qwen: open a file and select code first.');
      return undefined;
    }
    // Through the language client, so the middleware above (and the server) see it.
    try {
      return await editor.runCommand(command, { uri: sel.uri, range: sel.range } satisfies ActionArgs);
    } catch (err) {
      const missing = /not found/i.test(String(err));
      void editor.warn(missing ? 'Qwen: this server does not offer this action yet: update qwen-lsp.' : `Qwen: ${err instanceof Error ? err.message : err}`);
      return undefined;
    }
  }

  private async setApiKey(): Promise<void> {
    const key = await editor.ask('API key for the Qwen endpoint (kept in VS Code secret storage)', 'sk-…', true);
    if (key === undefined) return;
    if (key.trim()) await this.secrets.set(key.trim());
    else await this.secrets.delete();
    void editor.info('Qwen: API key saved; the server restarts with it.');
  }

  private async toggle(key: string): Promise<void> {
    const current = editor.settings().get<boolean>(key) !== false;
    await editor.updateGlobalSetting(key, !current);
    this.onToggle();
    void editor.info(`Qwen: ${key === 'completion.enabled' ? 'inline completions' : 'completions while typing'} ${current ? 'off' : 'on'}.`);
  }

  private async statusMenu(): Promise<void> {
    const enabled = editor.settings().get<boolean>('completion.enabled') !== false;
    const auto = editor.settings().get<boolean>('completion.autoTrigger') !== false;
    const items: (vscode.QuickPickItem & { run: () => unknown })[] = [
      { label: `$(${enabled ? 'circle-slash' : 'check'}) ${enabled ? 'Disable' : 'Enable'} inline completions`, run: () => this.toggle('completion.enabled') },
      { label: `$(zap) ${auto ? 'Only suggest when asked' : 'Suggest while typing'}`, run: () => this.toggle('completion.autoTrigger') },
      { label: '$(comment-discussion) Open chat', run: () => this.chat.reveal() },
      { label: '$(output) Show log', run: () => this.output.show() },
      { label: '$(settings-gear) Open settings', run: () => editor.openSettings() },
      { label: '$(key) Set API key', run: () => this.setApiKey() },
      { label: '$(pulse) Run doctor', run: () => this.doctor() },
      { label: '$(graph) Show statistics', run: () => this.stats() },
      { label: '$(debug-restart) Restart server', run: () => this.connection.restart('asked by the user') },
    ];
    const choice = await editor.pick(items, 'Qwen');
    await choice?.run();
  }

  /** `qwen-lsp doctor` with the same endpoint and key the server uses; its report opens as a
   * document (a terminal would close, report and all, as soon as a healthy run exits). */
  private async doctor(): Promise<void> {
    const launch = serverLaunch(editor.settings());
    const s = serverSettings(editor.settings()) as {
      endpoint?: Record<string, string>; completion?: Record<string, string>; chat?: Record<string, string>; nextEdit?: Record<string, unknown>;
    };
    const env: Record<string, string> = { PYTHONSAFEPATH: '1' }; // as serverEnv: never import from the cwd
    if (s.endpoint?.baseUrl) env.QWEN_LSP_BASE_URL = s.endpoint.baseUrl;
    if (s.endpoint?.provider) env.QWEN_LSP_PROVIDER = s.endpoint.provider;
    if (s.completion?.model) env.QWEN_LSP_COMPLETION_MODEL = s.completion.model;
    if (s.chat?.model) env.QWEN_LSP_CHAT_MODEL = s.chat.model;
    // The doctor says whether a next-edit model is configured and answering.
    if (typeof s.nextEdit?.model === 'string') env.QWEN_LSP_NEXT_EDIT_MODEL = s.nextEdit.model;
    if (typeof s.nextEdit?.format === 'string') env.QWEN_LSP_NEXT_EDIT_FORMAT = s.nextEdit.format;
    const key = await this.secrets.get();
    if (key) env.QWEN_LSP_API_KEY = key;
    const nextEdit = this.probeNextEdit();
    const result = await editor.withCancellableProgress('Qwen: running the doctor…', (token) =>
      editor.runProgram(launch.command, [...launch.args, 'doctor'], env, DOCTOR_TIMEOUT_MS, token));
    if (!result) return;
    await editor.showDocument(`qwen-lsp doctor\n\n${result.output}\n${await nextEdit}`, 'plaintext');
    if (result.code === 0) void editor.info('Qwen doctor: the endpoint is ready.');
    else void editor.warn('Qwen doctor: something is not working; the report says what to fix.');
  }

  /** Whether next edits are configured and, asked once at the cursor, answered. */
  private async probeNextEdit(): Promise<string> {
    const read = editor.settings();
    const enabled = nextEditEnabled(read);
    const model = String(read.get<string>('nextEdit.model') ?? '');
    const format = String(read.get<string>('nextEdit.format') ?? '');
    if (!enabled) return doctorNextEdit(false, model, format);
    const at = editor.activeCursor();
    if (!at || (at.scheme !== 'file' && at.scheme !== 'untitled')) return doctorNextEdit(true, model, format, { noFile: true });
    const params: InlineEditParams = {
      textDocument: { uri: at.uri, version: at.version },
      position: at.position,
      context: { triggerKind: TRIGGER_INVOKED },
    };
    const t0 = Date.now();
    try {
      const result = await this.connection.request<{ edits?: unknown[] } | null>(INLINE_EDIT_REQUEST, params);
      return doctorNextEdit(true, model, format, { file: at.name, ms: Date.now() - t0, edits: result?.edits?.length ?? 0 });
    } catch (err) {
      return doctorNextEdit(true, model, format, { file: at.name, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private async stats(): Promise<void> {
    try {
      const stats = await this.connection.request<unknown>(STATS_REQUEST, {});
      await editor.showDocument(JSON.stringify(stats, null, 2), 'json');
    } catch (err) {
      void editor.warn(`Qwen: no statistics: ${err instanceof Error ? err.message : err}`);
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
