// Starting, stopping and restarting the language server; the middleware that wires the
// extension's concerns (settings, completions, progress, commands) into vscode-languageclient.

import type * as vscode from 'vscode';
import {
  CancellationToken,
  LanguageClient,
  LanguageClientOptions,
  Middleware,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import * as editor from './editor';
import { serverEnv, serverLaunch, serverSettings, RESTART_SETTINGS } from './settings';
import type { StatusModel } from './status';

type Handler = (params: any) => void;

/** The language client, minus its generic start-failure popup: ours says what to do (once). */
class QwenLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown, showNotification?: boolean | 'force'): void {
    const startFailure = message.includes("couldn't create connection to server");
    super.error(message, data, startFailure ? false : showNotification);
  }
}

export interface ClientHooks {
  /** Extra middleware (completions, commands, progress); merged into the client's. */
  middleware: Middleware;
  /** Called whenever the status model changed. */
  onStatusChanged(): void;
  /** Called each time the server has started and answered `initialize`. */
  onReady?(): void;
}

export class ServerConnection implements vscode.Disposable {
  private client?: LanguageClient;
  private starting?: Promise<void>;
  private readonly handlers: [string, Handler][] = [];
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly secrets: editor.Secrets,
    private readonly status: StatusModel,
    private readonly hooks: ClientHooks,
  ) {
    this.subscriptions.push(
      editor.onSettingsChanged((affects) => {
        if (RESTART_SETTINGS.some(affects)) void this.restart('the server command changed');
      }),
      secrets.onDidChange(() => void this.restart('the API key changed')),
    );
  }

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Register a server notification handler that survives restarts. */
  onNotification(method: string, handler: Handler): void {
    this.handlers.push([method, handler]);
    this.client?.onNotification(method, handler);
  }

  async request<R>(method: string, params: unknown, token?: CancellationToken): Promise<R> {
    if (!this.client || !this.running) await this.start();
    if (!this.client || !this.running) throw new Error('the Qwen language server is not running');
    return token ? this.client.sendRequest<R>(method, params, token) : this.client.sendRequest<R>(method, params);
  }

  notify(method: string, params: unknown): void {
    if (this.running) void this.client?.sendNotification(method, params);
  }

  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.running) return;
    const launch = serverLaunch(editor.settings());
    const apiKey = await this.secrets.get();
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      options: { env: serverEnv(process.env, apiKey) },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: { qwen: serverSettings(editor.settings()) },
      connectionOptions: { maxRestartCount: 3 },
      middleware: this.middleware(),
    };
    // Never log the environment: it holds the API key.
    this.output.info(`starting ${launch.command} ${launch.args.join(' ')}`.trim());
    console.log('[qwen] starting the language server');
    this.status.setClient('starting');
    this.hooks.onStatusChanged();
    const client = new QwenLanguageClient('qwen', 'Qwen', serverOptions, clientOptions);
    for (const [method, handler] of this.handlers) client.onNotification(method, handler);
    client.onDidChangeState((e) => {
      if (client !== this.client) return;
      if (e.newState === State.Stopped) this.status.setClient('stopped');
      else if (e.newState === State.Running) this.status.setClient('running');
      this.hooks.onStatusChanged();
    });
    this.client = client;
    try {
      await client.start();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.status.setClient('failed', reason);
      this.hooks.onStatusChanged();
      this.output.error(`could not start the server: ${reason}`);
      void this.reportStartFailure(launch.command, reason);
      return;
    }
    this.status.setClient('running');
    this.hooks.onStatusChanged();
    // Tests wait for this line (it reaches the browser console as "[Extension Host] ...").
    console.log('[qwen] language server ready');
    this.hooks.onReady?.();
  }

  private async reportStartFailure(command: string, reason: string): Promise<void> {
    const hint = /ENOENT|not found/i.test(reason)
      ? `\`${command}\` was not found: install it (pip install qwen-lsp) or set "qwen.server.command" to its absolute path.`
      : reason;
    const choice = await editor.error(`Qwen: the language server could not start. ${hint}`, 'Show log', 'Open settings');
    if (choice === 'Show log') this.output.show();
    else if (choice === 'Open settings') void editor.openSettings();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      if (client.isRunning()) await client.stop(5000);
    } catch (err) {
      this.output.warn(`stopping the server: ${err instanceof Error ? err.message : String(err)}`);
    }
    await client.dispose().catch(() => undefined);
    this.status.setClient('stopped');
    this.hooks.onStatusChanged();
  }

  async restart(reason?: string): Promise<void> {
    if (reason) this.output.info(`restarting: ${reason}`);
    await this.starting?.catch(() => undefined);
    await this.stop();
    await this.start();
  }

  private middleware(): Middleware {
    return {
      ...this.hooks.middleware,
      workspace: {
        ...this.hooks.middleware.workspace,
        // The server asks for section "qwen": answer with the mapped settings, never with
        // whatever else sits under `qwen` in settings.json (an apiKey, say).
        configuration: async (params, token, next) => {
          const mapped = () => serverSettings(editor.settings());
          if (params.items.every((i) => i.section === 'qwen')) return params.items.map(mapped);
          const others = await next(params, token);
          if (!Array.isArray(others)) return others;
          return others.map((o, i) => (params.items[i].section === 'qwen' ? mapped() : o));
        },
        // Send an empty notification; the server pulls the mapped settings.
        didChangeConfiguration: (_sections, next) => next(undefined),
      },
    };
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    void this.stop();
  }
}
