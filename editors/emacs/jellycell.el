;;; jellycell.el --- Eglot setup for jellycell-lsp notebooks  -*- lexical-binding: t; -*-

;; Plain-text notebooks (jupytext py:percent `.py' and MyST `.md') in the jellycell
;; format, with jellycell-lsp as their language server through Eglot (built into
;; Emacs 29+, `elpa-eglot' on Debian's Emacs 28).
;;
;; Install: put this file on `load-path' and add to your init file
;;
;;   (require 'jellycell)
;;   ;; optional: (setq jellycell-lsp-command '("/path/to/jellycell-lsp"))
;;
;; Python buffers that look like notebooks (a `# %%' cell marker, or a `jellycell.toml'
;; above them) start Eglot with jellycell-lsp; so do MyST buffers with a `{code-cell}'.
;; Eglot runs one server per major mode and project, so in a jellycell project
;; jellycell-lsp serves its Python files instead of another Python server.
;;
;; Eglot has no code-lens UI; the run commands below do what the lenses do in VS Code
;; and Neovim, for the cell under the cursor: M-x jellycell-run-cell, and so on.

;;; Code:

(require 'eglot)

(defgroup jellycell nil
  "Jellycell notebooks through jellycell-lsp."
  :group 'tools)

(defcustom jellycell-lsp-command '("jellycell-lsp")
  "The jellycell-lsp command line (it speaks LSP on stdio with no arguments)."
  :type '(repeat string))

(defun jellycell-notebook-p ()
  "Whether the current buffer is a jellycell notebook."
  (or (and buffer-file-name (locate-dominating-file buffer-file-name "jellycell.toml"))
      (save-excursion
        (goto-char (point-min))
        (re-search-forward "^\\(# %%\\|```{code-cell}\\)" nil t))))

(defun jellycell--contact (&rest _)
  "The server command line, read when Eglot starts (so later `setq's count)."
  jellycell-lsp-command)

(defun jellycell-project-find (dir)
  "A project rooted at the `jellycell.toml' above DIR (for `project-find-functions')."
  (when-let ((root (locate-dominating-file dir "jellycell.toml")))
    (cons 'transient root)))

;; After the version-control backends: a git checkout stays the project.
(add-hook 'project-find-functions #'jellycell-project-find 90)

(add-to-list 'eglot-server-programs
             '((python-mode python-ts-mode markdown-mode gfm-mode) . jellycell--contact))

(defun jellycell-eglot-ensure ()
  "Start Eglot in notebook buffers (for `python-mode-hook' and `markdown-mode-hook')."
  (when (jellycell-notebook-p)
    (eglot-ensure)))

(dolist (hook '(python-mode-hook python-ts-mode-hook markdown-mode-hook gfm-mode-hook))
  (add-hook hook #'jellycell-eglot-ensure))

(defun jellycell--execute (command)
  "Ask jellycell-lsp to run COMMAND for the cell under the cursor."
  (let ((server (eglot-current-server)))
    (unless server
      (user-error "jellycell-lsp is not running in this buffer (M-x eglot)"))
    (jsonrpc-request server :workspace/executeCommand
                     `(:command ,command
                       :arguments [(:uri ,(plist-get (eglot--TextDocumentIdentifier) :uri)
                                    :line ,(1- (line-number-at-pos)))]))))

(defmacro jellycell--define-command (name command doc)
  `(defun ,name ()
     ,doc
     (interactive)
     (let ((result (jellycell--execute ,command)))
       (when-let ((url (and (listp result) (plist-get result :url))))
         (browse-url url))
       result)))

(jellycell--define-command jellycell-run-cell "jellycell.runCell" "Run the cell under the cursor.")
(jellycell--define-command jellycell-run-with-deps "jellycell.runWithDeps"
                           "Run the cell under the cursor after the cells it depends on.")
(jellycell--define-command jellycell-run-above "jellycell.runAbove" "Run every cell above the cursor.")
(jellycell--define-command jellycell-run-all "jellycell.runAll" "Run the whole notebook.")
(jellycell--define-command jellycell-interrupt "jellycell.interrupt" "Interrupt the notebook's kernel.")
(jellycell--define-command jellycell-restart "jellycell.restart" "Restart the notebook's kernel.")
(jellycell--define-command jellycell-preview "jellycell.openPreview"
                           "Open the notebook's preview page at the cell under the cursor.")

(provide 'jellycell)
;;; jellycell.el ends here
