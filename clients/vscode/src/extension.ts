// Entry point: activate and deactivate only; src/app.ts wires the rest.

import type * as vscode from 'vscode';
import { QwenApp } from './app';

let app: QwenApp | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  app = new QwenApp(context);
  context.subscriptions.push(app);
  await app.start();
}

export async function deactivate(): Promise<void> {
  await app?.stop();
  app = undefined;
}
