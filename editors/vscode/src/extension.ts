// Jellycell for VS Code: starts `jellycell-lsp` over stdio with vscode-languageclient,
// adds the palette commands, the kernel status-bar item, each cell's output summary after
// it and the Outputs view (outputs.ts).
//
// The server starts once the workspace has a `jellycell.toml` or a notebook-looking file
// (`# %%` cells, MyST `{code-cell}`) is opened; from then on every Python and Markdown file
// goes to it and it reports only on notebooks. Lenses, hover, diagnostics, completion and
// the rest come from the server through the client's standard features.
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, State } from 'vscode-languageclient/node';
import { FORWARDED, execute, forward, isCommandArgument } from './commands';
import { LANGUAGES, looksLikeNotebook, workspaceHasProject } from './notebook';
import { initializationOptions, notFoundMessage, readServerSettings, serverOptions } from './server';
import { KernelStatusBar, isKernelStatus } from './status';
import { InlineOutputs, OUTPUTS_VIEW, OutputsView } from './outputs';

const KERNEL_MENU = 'jellycell.vscode.kernelMenu';
/** Settings that the server reads at start: changing one restarts it. */
const RESTART_ON = ['jellycell.server', 'jellycell.codeLens', 'jellycell.inlayHints', 'jellycell.preview'];

class Extension implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private readonly output = vscode.window.createOutputChannel('Jellycell');
  private readonly status = new KernelStatusBar(KERNEL_MENU);
  private readonly inline = new InlineOutputs(() => this.inlineClient());
  private readonly outputsView = new OutputsView(() => this.client);
  private warnedAbout: string | undefined;
  /** Set once something asked for the server: later setting changes (re)start it. */
  private wanted = false;

  constructor(private readonly context: vscode.ExtensionContext) {}

  register(): void {
    const subscriptions = this.context.subscriptions;
    subscriptions.push(this, this.output, this.status, this.inline, this.outputsView);
    const redraw = (): void => {
      this.inline.schedule();
      this.outputsView.schedule();
    };
    subscriptions.push(
      vscode.window.registerWebviewViewProvider(OUTPUTS_VIEW, this.outputsView),
      vscode.window.onDidChangeTextEditorSelection(() => this.outputsView.schedule()),
      vscode.window.onDidChangeActiveTextEditor(redraw),
      vscode.window.onDidChangeVisibleTextEditors(() => this.inline.schedule()),
      vscode.window.onDidChangeTextEditorVisibleRanges(() => this.inline.schedule()),
      vscode.workspace.onDidChangeTextDocument(redraw),
      // Republished after each cell of a run and when another process writes the cache.
      vscode.languages.onDidChangeDiagnostics(redraw),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('jellycell.inlineOutputs')) {
          redraw();
        }
      }),
    );
    for (const [paletteCommand, serverCommand] of FORWARDED) {
      subscriptions.push(
        vscode.commands.registerCommand(paletteCommand, async () => {
          await this.ensureStarted();
          return forward(this.client, this.status, serverCommand);
        }),
      );
    }
    subscriptions.push(
      vscode.commands.registerCommand('jellycell.vscode.restartServer', () => this.restart()),
      vscode.commands.registerCommand('jellycell.vscode.showOutput', () => this.output.show(true)),
      vscode.commands.registerCommand('jellycell.vscode.showOutputs', () =>
        vscode.commands.executeCommand(`${OUTPUTS_VIEW}.focus`, { preserveFocus: true }),
      ),
      vscode.commands.registerCommand(KERNEL_MENU, () => this.kernelMenu()),
      vscode.workspace.onDidOpenTextDocument((document) => {
        if (looksLikeNotebook(document)) {
          void this.ensureStarted();
        }
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        // Also after a failed start: fixing `jellycell.server.path` starts the server.
        if (this.wanted && RESTART_ON.some((section) => event.affectsConfiguration(section))) {
          void this.restart();
        }
      }),
    );
  }

  /** Starts the server when this workspace has jellycell in it. */
  async startIfNeeded(): Promise<void> {
    if (vscode.workspace.textDocuments.some(looksLikeNotebook) || (await workspaceHasProject())) {
      await this.ensureStarted();
    }
  }

  ensureStarted(): Promise<void> {
    this.wanted = true;
    if (this.client?.isRunning()) {
      return Promise.resolve();
    }
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<void> {
    const settings = readServerSettings(this.context.extensionPath);
    if (!settings.resolved) {
      this.status.serverStateChanged('missing');
      const message = notFoundMessage(settings);
      this.output.appendLine(message);
      if (this.warnedAbout !== settings.configured) {
        this.warnedAbout = settings.configured;
        void vscode.window.showErrorMessage(message, 'Open Settings').then((choice) => {
          if (choice === 'Open Settings') {
            void vscode.commands.executeCommand('workbench.action.openSettings', 'jellycell.server.path');
          }
        });
      }
      return;
    }
    this.output.appendLine(
      `starting ${settings.resolved} ${settings.args.join(' ')} (${settings.source})`.trimEnd(),
    );
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGES.map((language) => ({ scheme: 'file', language })),
      initializationOptions: initializationOptions(),
      outputChannel: this.output,
      synchronize: {
        // The project's settings files (the server also registers these where it may).
        fileEvents: ['**/jellycell.toml', '**/jellycell-lsp.toml', '**/pyproject.toml'].map((glob) =>
          vscode.workspace.createFileSystemWatcher(glob),
        ),
      },
      middleware: {
        // The lenses' commands (registered by the client from executeCommandProvider)
        // go out with a progress token tied to their notebook; see commands.ts.
        executeCommand: (command, args: unknown[], next) => {
          const [argument] = args;
          if (command.startsWith('jellycell.') && args.length === 1 && isCommandArgument(argument)) {
            return execute(client, this.status, command, argument);
          }
          return next(command, args) as Promise<unknown>;
        },
      },
    };
    const client = new LanguageClient(
      'jellycell',
      'Jellycell',
      serverOptions(settings.resolved, settings.args),
      clientOptions,
    );
    client.onDidChangeState((event) => {
      this.status.serverStateChanged(event.newState === State.Running ? 'running' : 'stopped');
      if (event.newState === State.Running) {
        this.inline.schedule();
        this.outputsView.schedule();
      }
    });
    this.context.subscriptions.push(
      client.onNotification('jellycell/kernelStatus', (params: unknown) => {
        if (isKernelStatus(params)) {
          this.status.kernelStatus(params);
          // A run started or finished: its cells' outputs changed.
          this.inline.schedule();
          this.outputsView.schedule();
        }
      }),
    );
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.output.appendLine(`the server failed to start: ${message}`);
      void vscode.window.showErrorMessage(`Jellycell: the language server failed to start: ${message}`);
    }
  }

  async restart(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.stop().catch(() => undefined);
    }
    this.warnedAbout = undefined;
    await this.ensureStarted();
  }

  /** The client, when inline outputs are wanted. */
  private inlineClient(): LanguageClient | undefined {
    const enabled = vscode.workspace.getConfiguration('jellycell').get<boolean>('inlineOutputs.enable', true);
    return enabled ? this.client : undefined;
  }

  private async kernelMenu(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const state = editor ? this.status.stateOf(editor.document.uri.toString()) : 'none';
    if (!this.client) {
      this.output.show(true);
      return;
    }
    const items: Array<vscode.QuickPickItem & { command: string }> = [
      { label: '$(debug-pause) Interrupt Kernel', command: 'jellycell.vscode.interrupt' },
      { label: '$(debug-restart) Restart Kernel', command: 'jellycell.vscode.restart' },
      { label: '$(run-all) Run All', command: 'jellycell.vscode.runAll' },
      { label: '$(open-preview) Open Preview', command: 'jellycell.vscode.openPreview' },
      { label: '$(output) Show Server Log', command: 'jellycell.vscode.showOutput' },
    ];
    const choice = await vscode.window.showQuickPick(items, { placeHolder: `Jellycell kernel: ${state}` });
    if (choice) {
      await vscode.commands.executeCommand(choice.command);
    }
  }

  dispose(): void {
    void this.client?.stop();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.stop();
  }
}

let extension: Extension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extension = new Extension(context);
  extension.register();
  await extension.startIfNeeded();
}

export async function deactivate(): Promise<void> {
  await extension?.stop();
}
