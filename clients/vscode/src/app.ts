// Wires the concerns together: server connection, status, completions, chat, commands.

import * as vscode from 'vscode';
import { ChatView } from './chatView';
import { ServerConnection } from './client';
import { Commands } from './commands';
import { Completions } from './completions';
import { NextEdits } from './nextEditView';
import * as editor from './editor';
import { STATUS_NOTIFICATION, type StatusParams } from './protocol';
import { StatusBar } from './statusBar';
import { StatusModel, type ProgressValue } from './status';

export class QwenApp implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly connection: ServerConnection;

  constructor(context: vscode.ExtensionContext) {
    const output = vscode.window.createOutputChannel('Qwen', { log: true });
    const secrets = new editor.Secrets(context.secrets);
    const status = new StatusModel();
    const bar = new StatusBar(status);
    const refresh = () => {
      status.setEnabled(editor.settings().get<boolean>('completion.enabled') !== false);
      bar.render();
    };
    let commands: Commands | undefined;
    const completions = new Completions((method, params) => this.connection.notify(method, params));
    // Text typed before the server is ready gets a suggestion once it is (VS Code would only
    // ask again at the next keystroke).
    let editedBeforeReady = false;
    let firstStart = true;
    this.connection = new ServerConnection(output, secrets, status, {
      onStatusChanged: refresh,
      onReady: () => {
        completions.askAfterStart(editedBeforeReady, firstStart);
        editedBeforeReady = false;
        firstStart = false;
      },
      middleware: {
        ...completions.middleware(),
        handleWorkDoneProgress: (token, params, next) => {
          status.onProgress(token, params as ProgressValue);
          refresh();
          next(token, params);
        },
        executeCommand: (command, args, next) => (commands ? commands.middleware().executeCommand!(command, args, next) : next(command, args)),
      },
    });
    this.connection.onNotification(STATUS_NOTIFICATION, (p: StatusParams) => {
      status.onStatus(p);
      refresh();
    });
    const chat = new ChatView(context.extensionUri, context.workspaceState, this.connection);
    commands = new Commands(this.connection, secrets, output, chat, refresh);
    const nextEdits = new NextEdits(this.connection, (uri, version) => completions.shownFor(uri, version), (state) => {
      status.setNextEdit(state);
      bar.render();
    }, context.extensionUri);
    completions.onItems = (uri) => nextEdits.onInlineCompletion(uri);
    this.disposables.push(
      output,
      bar,
      completions,
      chat,
      commands,
      nextEdits,
      editor.trackLastEditor(),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length && !this.connection.running) editedBeforeReady = true;
      }),
      editor.onSettingsChanged((affects) => {
        if (affects('qwen.completion.enabled')) refresh();
      }),
      this.connection,
    );
    refresh();
  }

  start(): Promise<void> {
    return this.connection.start();
  }

  stop(): Promise<void> {
    return this.connection.stop();
  }

  dispose(): void {
    for (const d of this.disposables.reverse()) d.dispose();
  }
}
