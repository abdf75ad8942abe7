// The status bar item: renders StatusModel, opens the quick pick with the common actions.

import * as vscode from 'vscode';
import type { StatusModel } from './status';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(private readonly model: StatusModel) {
    this.item = vscode.window.createStatusBarItem('qwen.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Qwen';
    this.item.command = 'qwen.statusMenu';
    this.render();
    this.item.show();
  }

  render(): void {
    const view = this.model.view();
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.accessibilityInformation = { label: `Qwen ${view.state}` };
    this.item.backgroundColor =
      view.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
