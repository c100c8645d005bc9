// Which documents are jellycell notebooks, as far as the extension needs to know before
// the server is running: the server itself decides what to lint and ignores the rest.
import * as vscode from 'vscode';

/** The languages the client hands to the server. */
export const LANGUAGES = ['python', 'markdown'];

const PERCENT_CELL = /^# %%/m;
const MYST_CELL = /^(```|~~~)\s*\{code-cell\}/m;

/** A py:percent file with a `# %%` marker or a MyST file with a `{code-cell}` block. */
export function looksLikeNotebook(document: vscode.TextDocument): boolean {
  if (document.uri.scheme !== 'file') {
    return false;
  }
  const head = document.getText().slice(0, 200_000);
  switch (document.languageId) {
    case 'python':
      return PERCENT_CELL.test(head);
    case 'markdown':
      return MYST_CELL.test(head);
    default:
      return false;
  }
}

/** Whether the workspace holds a `jellycell.toml` (outside dependency folders). */
export async function workspaceHasProject(): Promise<boolean> {
  const found = await vscode.workspace.findFiles('**/jellycell.toml', '**/{node_modules,.git,.venv}/**', 1);
  return found.length > 0;
}
