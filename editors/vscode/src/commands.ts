// Sending the server's `jellycell.*` commands: from the palette (with the active
// notebook's URI and the cursor line; the server finds the cell there) and from the code
// lenses (with the `{uri, cell}` the server put in them).
//
// vscode-languageclient itself registers every id the server lists in
// `executeCommandProvider` (`jellycell.runCell`, …) as a VS Code command, which is what
// the lenses call; its `executeCommand` middleware routes those calls here. The palette
// entries have ids of their own (`jellycell.vscode.*`), so nothing is registered twice,
// and they work whether or not the server lists the command.
//
// Every command carries a `workDoneToken` of ours, so the `$/progress` of the run it
// starts is tied to its notebook: the status bar follows it (busy, starting the kernel,
// idle once the run ends).
import { randomUUID } from 'crypto';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { LANGUAGES } from './notebook';
import { KernelStatusBar } from './status';

/** Palette command → server command. */
export const FORWARDED: ReadonlyArray<[string, string]> = [
  ['jellycell.vscode.runCell', 'jellycell.runCell'],
  ['jellycell.vscode.runWithDeps', 'jellycell.runWithDeps'],
  ['jellycell.vscode.runAbove', 'jellycell.runAbove'],
  ['jellycell.vscode.runAll', 'jellycell.runAll'],
  ['jellycell.vscode.interrupt', 'jellycell.interrupt'],
  ['jellycell.vscode.restart', 'jellycell.restart'],
  ['jellycell.vscode.openPreview', 'jellycell.openPreview'],
];

/** What every jellycell command takes. */
export interface CommandArgument {
  uri: string;
  cell?: number;
  line?: number;
}

export function isCommandArgument(value: unknown): value is CommandArgument {
  return typeof value === 'object' && value !== null && typeof (value as { uri?: unknown }).uri === 'string';
}

type Progress = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

/** Sends `command` with `argument` and a progress token tied to the notebook. */
export async function execute(
  client: LanguageClient,
  status: KernelStatusBar,
  command: string,
  argument: CommandArgument,
): Promise<unknown> {
  const notebook = vscode.Uri.parse(argument.uri).toString();
  const token = `jellycell-vscode-${randomUUID()}`;
  const subscription = client.onProgress(WorkDoneProgress.type, token, (value: Progress) => {
    status.runProgress(notebook, value);
    if (value.kind === 'end') {
      subscription.dispose();
    }
  });
  try {
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: [argument],
      workDoneToken: token,
    });
    if (command === 'jellycell.restart') {
      status.kernelStatus({ uri: argument.uri, state: 'none' });
    }
    // Where the preview is, also when no browser could be opened (a remote window): the
    // server then says so in a message too.
    const url = (result as { url?: unknown } | null)?.url;
    if (command === 'jellycell.openPreview' && typeof url === 'string') {
      vscode.window.setStatusBarMessage(`Jellycell preview: ${url}`, 15000);
    }
    return result;
  } catch (error) {
    subscription.dispose();
    throw error;
  }
}

/** A palette command: `command` for the active editor at the cursor; errors are shown. */
export async function forward(
  client: LanguageClient | undefined,
  status: KernelStatusBar,
  command: string,
): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !LANGUAGES.includes(editor.document.languageId)) {
    void vscode.window.showWarningMessage('Jellycell: open a notebook (.py with # %% cells or MyST .md) first.');
    return undefined;
  }
  if (!client || !client.isRunning()) {
    void vscode.window.showErrorMessage('Jellycell: the language server is not running; see "Jellycell: Show Server Log".');
    return undefined;
  }
  try {
    return await execute(client, status, command, {
      uri: client.code2ProtocolConverter.asUri(editor.document.uri),
      line: editor.selection.active.line,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`Jellycell: ${command} failed: ${message}`);
    return undefined;
  }
}
