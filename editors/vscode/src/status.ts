// The status-bar item with the kernel state of the notebook in the active editor.
//
// Two sources, the newest wins: the server's `jellycell/kernelStatus` notification
// (`{uri, state: "starting" | "idle" | "busy" | "dead" | "none"}`), and the `$/progress`
// of runs this extension starts (see commands.ts): busy from `begin`, starting while a
// report says the kernel is starting, idle at `end` (the server keeps the kernel warm).
import * as vscode from 'vscode';
import { WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport } from 'vscode-languageclient/node';
import { looksLikeNotebook } from './notebook';

export type KernelState = 'starting' | 'idle' | 'busy' | 'dead' | 'none';

const KERNEL_STATES: readonly string[] = ['starting', 'idle', 'busy', 'dead', 'none'];

export interface KernelStatusParams {
  uri: string;
  state: KernelState;
  /** Which Python runs the kernel (`project venv /p/.venv/bin/python`), while one runs. */
  environment?: string;
}

export function isKernelStatus(value: unknown): value is KernelStatusParams {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const { uri, state } = value as Record<string, unknown>;
  return typeof uri === 'string' && typeof state === 'string' && KERNEL_STATES.includes(state);
}

const PRESENTATION: Record<KernelState, { icon: string; text: string; tooltip: string }> = {
  none: { icon: '$(circle-outline)', text: 'no kernel', tooltip: 'No kernel yet: the first run starts one.' },
  starting: { icon: '$(loading~spin)', text: 'kernel starting', tooltip: 'The kernel is starting.' },
  idle: { icon: '$(circle-filled)', text: 'kernel idle', tooltip: 'The kernel is ready.' },
  busy: { icon: '$(sync~spin)', text: 'kernel busy', tooltip: 'A cell is running. Click to interrupt or restart.' },
  dead: { icon: '$(error)', text: 'kernel dead', tooltip: 'The kernel died. Click to restart it.' },
};

interface NotebookStatus {
  state: KernelState;
  /** Where the running kernel's Python comes from. */
  environment?: string;
  /** The last progress message of a run in flight. */
  activity?: string;
}

export class KernelStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly notebooks = new Map<string, NotebookStatus>();
  private serverState: 'running' | 'stopped' | 'missing' = 'stopped';
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(menuCommand: string) {
    this.item = vscode.window.createStatusBarItem('jellycell.kernel', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Jellycell kernel';
    this.item.command = menuCommand;
    this.subscriptions.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document === vscode.window.activeTextEditor?.document) {
          this.render();
        }
      }),
    );
    this.render();
  }

  /** A `jellycell/kernelStatus` notification. */
  kernelStatus(params: KernelStatusParams): void {
    // URIs compared in VS Code's spelling (the server's percent-encoding may differ).
    const environment = typeof params.environment === 'string' ? params.environment : undefined;
    this.notebooks.set(vscode.Uri.parse(params.uri).toString(), { state: params.state, environment });
    this.render();
  }

  /** `$/progress` of a run of the notebook at `uri` (in VS Code's spelling). */
  runProgress(uri: string, value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd): void {
    const environment = this.notebooks.get(uri)?.environment;
    switch (value.kind) {
      case 'begin':
        this.notebooks.set(uri, { state: 'busy', activity: value.message ?? value.title, environment });
        break;
      case 'report': {
        const starting = /starting kernel/i.test(value.message ?? '');
        this.notebooks.set(uri, { state: starting ? 'starting' : 'busy', activity: value.message, environment });
        break;
      }
      case 'end':
        this.notebooks.set(uri, { state: 'idle', activity: value.message, environment });
        break;
    }
    this.render();
  }

  serverStateChanged(state: 'running' | 'stopped' | 'missing'): void {
    this.serverState = state;
    if (state !== 'running') {
      this.notebooks.clear();
    }
    this.render();
  }

  /** The state shown for the notebook at `uri`. */
  stateOf(uri: string): KernelState {
    return this.notebooks.get(uri)?.state ?? 'none';
  }

  private render(): void {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !looksLikeNotebook(editor.document)) {
      this.item.hide();
      void vscode.commands.executeCommand('setContext', 'jellycell.notebook', false);
      return;
    }
    void vscode.commands.executeCommand('setContext', 'jellycell.notebook', true);
    if (this.serverState === 'missing') {
      this.item.text = '$(warning) jellycell-lsp not found';
      this.item.tooltip = 'Set "jellycell.server.path" or install jellycell-lsp; click for the log.';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else {
      const status = this.notebooks.get(editor.document.uri.toString()) ?? { state: 'none' };
      const shown = PRESENTATION[status.state];
      this.item.text = `${shown.icon} ${shown.text}`;
      this.item.tooltip =
        `Jellycell: ${shown.tooltip}` +
        (status.environment ? `\nkernel: ${status.environment}` : '') +
        (status.activity ? `\n${status.activity}` : '');
      this.item.backgroundColor =
        status.state === 'dead' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    }
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
  }
}
