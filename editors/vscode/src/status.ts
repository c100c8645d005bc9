// The status-bar item with the kernel state of the notebook in the active editor.
//
// Two sources: the server's `jellycell/kernelStatus` notification
// (`{uri, state: "starting" | "idle" | "busy" | "dead" | "none"}`), which is authoritative
// for the notebook it names, and `$/progress` begin/end of runs, which mark the kernel busy
// while a run is in flight for servers (or moments) that have not sent a status.
import * as vscode from 'vscode';
import { looksLikeNotebook } from './notebook';

export type KernelState = 'starting' | 'idle' | 'busy' | 'dead' | 'none';

const KERNEL_STATES: readonly string[] = ['starting', 'idle', 'busy', 'dead', 'none'];

export interface KernelStatusParams {
  uri: string;
  state: KernelState;
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

export class KernelStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly states = new Map<string, KernelState>();
  private runsInFlight = 0;
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
    // Compare URIs in VS Code's spelling (percent-encoding may differ from the server's).
    this.states.set(vscode.Uri.parse(params.uri).toString(), params.state);
    this.render();
  }

  /** A work-done progress `begin` or `end` from the server. */
  progress(kind: 'begin' | 'end'): void {
    this.runsInFlight = Math.max(0, this.runsInFlight + (kind === 'begin' ? 1 : -1));
    this.render();
  }

  serverStateChanged(state: 'running' | 'stopped' | 'missing'): void {
    this.serverState = state;
    if (state !== 'running') {
      this.states.clear();
      this.runsInFlight = 0;
    }
    this.render();
  }

  /** The state shown for the notebook at `uri`. */
  stateOf(uri: string): KernelState {
    const reported = this.states.get(uri);
    if (this.runsInFlight > 0 && reported !== 'dead' && reported !== 'starting') {
      return 'busy';
    }
    return reported ?? 'none';
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
      const shown = PRESENTATION[this.stateOf(editor.document.uri.toString())];
      this.item.text = `${shown.icon} ${shown.text}`;
      this.item.tooltip = `Jellycell: ${shown.tooltip}`;
      this.item.backgroundColor =
        shown === PRESENTATION.dead ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
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
