;;; eglot_smoke.el --- tests/editor_emacs.rs: Eglot + editors/emacs/jellycell.el in batch  -*- lexical-binding: t; -*-
;; usage: JELLYCELL_LSP_BIN=... emacs --batch -l editors/emacs/jellycell.el -l eglot_smoke.el NOTEBOOK
;; Prints what Eglot received, one fact a line; exits 1 on a timeout.
(require 'cl-lib)
(setq jellycell-lsp-command (list (getenv "JELLYCELL_LSP_BIN"))
      eglot-sync-connect 30 eglot-connect-timeout 30)
(defvar smoke-file (expand-file-name (pop command-line-args-left)))
(defvar smoke-diagnostics nil "The last non-empty publishDiagnostics params.")
(defvar smoke-seen nil)
(defun smoke-say (fmt &rest args) (princ (concat (apply #'format fmt args) "\n")))
(defun smoke-wait (secs pred what)
  (with-timeout (secs (smoke-say "FAIL: timeout waiting for %s" what) (kill-emacs 1))
    (while (not (funcall pred)) (accept-process-output nil 0.05))))
(cl-defmethod eglot-handle-notification :before (_server method &rest params)
  (push method smoke-seen)
  (when (and (eq method 'textDocument/publishDiagnostics)
             (> (length (plist-get params :diagnostics)) 0))
    (setq smoke-diagnostics params)))
(cl-defmethod eglot-handle-request :before (_server method &rest _params)
  (push method smoke-seen))

(find-file smoke-file)
(smoke-say "major-mode=%s notebook=%s" major-mode (if (jellycell-notebook-p) "yes" "no"))
;; What `eglot-ensure' does after the first command (no commands run in batch).
(apply #'eglot (eglot--guess-contact))
(let ((server (or (eglot-current-server) (progn (smoke-say "FAIL: no server") (kill-emacs 1)))))
  (smoke-say "server=%s" (plist-get (eglot--server-info server) :name))
  (smoke-wait 30 (lambda () smoke-diagnostics) "diagnostics")
  (cl-loop for d across (plist-get smoke-diagnostics :diagnostics)
           do (smoke-say "diagnostic %s line=%d: %s"
                         (plist-get d :code)
                         (plist-get (plist-get (plist-get d :range) :start) :line)
                         (plist-get d :message)))
  ;; Flymake shows them in the buffer.
  (smoke-wait 10 (lambda () (flymake-diagnostics)) "flymake")
  (dolist (d (flymake-diagnostics))
    (smoke-say "flymake L%d %s" (line-number-at-pos (flymake-diagnostic-beg d)) (flymake-diagnostic-text d)))
  ;; The snippet's run command on the `hello' cell; Eglot has no lens UI, so ask for the
  ;; lenses until the cell's status says cached.
  (goto-char (point-min))
  (search-forward "print(message)")
  (smoke-say "run-cell -> %S" (jellycell-run-cell))
  (let ((titles nil))
    (with-timeout (120 (smoke-say "FAIL: timeout waiting for a cached lens: %S" titles) (kill-emacs 1))
      (while (not (cl-some (lambda (title) (string-match-p "cached" title)) titles))
        (accept-process-output nil 0.3)
        (setq titles
              (mapcar (lambda (lens) (format "%d:%s"
                                             (plist-get (plist-get (plist-get lens :range) :start) :line)
                                             (plist-get (plist-get lens :command) :title)))
                      (jsonrpc-request server :textDocument/codeLens
                                       `(:textDocument ,(eglot--TextDocumentIdentifier)))))))
    (smoke-say "lenses %S" titles))
  ;; What Eldoc shows at point: the hover, with the cell's output.
  (let ((hover (jsonrpc-request server :textDocument/hover
                                `(:textDocument ,(eglot--TextDocumentIdentifier)
                                  :position ,(eglot--pos-to-lsp-position)))))
    (smoke-say "hover %S" (plist-get (plist-get hover :contents) :value)))
  (eglot-shutdown server)
  (smoke-say "seen %S" (delete-dups (reverse smoke-seen)))
  (smoke-say "OK")
  (kill-emacs 0))
