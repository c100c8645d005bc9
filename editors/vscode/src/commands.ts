// The palette commands: each forwards to the server's `jellycell.*` command with the
// active notebook's URI and the cursor line (the server finds the cell there).
//
// vscode-languageclient itself registers every id the server lists in
// `executeCommandProvider` (`jellycell.runCell`, …) as a VS Code command, which is what
// the code lenses call. The palette entries therefore have ids of their own
// (`jellycell.vscode.*`) and send `workspace/executeCommand` directly: no duplicate
// registration, and they work whether or not the server lists the command.
import * as vscode from 'vscode';
import { ExecuteCommandRequest, LanguageClient } from 'vscode-languageclient/node';
import { LANGUAGES } from './notebook';

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

/** The argument every jellycell command takes: `{uri, line}` of the cursor. */
export function commandArgument(client: LanguageClient, editor: vscode.TextEditor): { uri: string; line: number } {
  return {
    uri: client.code2ProtocolConverter.asUri(editor.document.uri),
    line: editor.selection.active.line,
  };
}

/** Sends `serverCommand` for the active editor; errors are shown, never thrown. */
export async function forward(client: LanguageClient | undefined, serverCommand: string): Promise<unknown> {
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
    return await client.sendRequest(ExecuteCommandRequest.type, {
      command: serverCommand,
      arguments: [commandArgument(client, editor)],
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`Jellycell: ${serverCommand} failed: ${message}`);
    return undefined;
  }
}
