# The kernel side of state restore (see run/state.rs and docs/cache.md "State restore").
#
# Sent once per kernel as hidden code: it leaves exactly one name in the user namespace,
# `_jellycell_lsp`, and prints its answers as one marked JSON line on stdout. Values move
# through files in the store, never through the ZeroMQ messages: `snapshot` pickles each
# name into a fresh temporary file that the runner hashes and renames into a blob, and
# `restore` unpickles blob files back into the namespace.
def _jellycell_lsp_install():
    import importlib
    import json
    import os
    import pickle
    import sys
    import types
    import uuid

    user_ns = get_ipython().user_ns
    marker = "\x1ejellycell-lsp-state "

    class TooLarge(Exception):
        pass

    class LimitedFile:
        """Counts what pickle writes and stops it past the limit (before the disk fills)."""

        def __init__(self, file, limit):
            self.file, self.limit, self.size = file, limit, 0

        def write(self, data):
            self.size += memoryview(data).nbytes
            if self.size > self.limit:
                raise TooLarge()
            return self.file.write(data)

    class NotebookSafePickler(pickle.Pickler):
        # Plain pickle saves functions and classes by name: one defined in the notebook
        # would come back only into a kernel that already defines it, so it is refused
        # and its cell replayed instead (cloudpickle and dill save them by value).
        def reducer_override(self, obj):
            if isinstance(obj, (type, types.FunctionType)) and getattr(
                obj, "__module__", None
            ) == "__main__":
                raise pickle.PicklingError(
                    "%s is defined in the notebook and plain pickle saves it by name only "
                    "(install cloudpickle or dill in the kernel to snapshot it)"
                    % getattr(obj, "__qualname__", obj)
                )
            return NotImplemented

    def optional(name):
        try:
            return importlib.import_module(name)
        except Exception:
            return None

    def dumpers():
        for name in ("cloudpickle", "dill"):
            module = sys.modules.get(name) or optional(name)
            if module is not None:
                yield name, lambda value, file, module=module: module.dump(
                    value, file, protocol=5
                )
        yield "pickle", lambda value, file: NotebookSafePickler(file, protocol=5).dump(value)

    def answer(value):
        print(marker + json.dumps(value), flush=True)

    def snapshot(request):
        request = json.loads(request)
        limit = request["limit"]
        folder = request["dir"]
        os.makedirs(folder, exist_ok=True)
        results = []
        for name in request["names"]:
            if name not in user_ns:
                results.append({"name": name, "reason": "not defined after the cell ran"})
                continue
            value = user_ns[name]
            path = os.path.join(folder, ".snapshot-%s.tmp" % uuid.uuid4().hex)
            if isinstance(value, types.ModuleType):
                with open(path, "w", encoding="utf-8") as file:
                    file.write(value.__name__)
                results.append({"name": name, "file": path, "pickler": "module"})
                continue
            reason = None
            for pickler, dump in dumpers():
                try:
                    with open(path, "wb") as file:
                        dump(value, LimitedFile(file, limit))
                except TooLarge:
                    reason = "larger than [run] snapshot_max_mb (%d MB)" % (limit >> 20)
                    break
                except BaseException as error:
                    if isinstance(error, KeyboardInterrupt):
                        raise
                    reason = "cannot be pickled (%s: %s)" % (type(error).__name__, error)
                    continue
                results.append({"name": name, "file": path, "pickler": pickler})
                reason = None
                break
            if reason is not None:
                try:
                    os.remove(path)
                except OSError:
                    pass
                results.append({"name": name, "reason": reason})
        answer(results)

    def restore(request):
        results = []
        for entry in json.loads(request):
            try:
                pickler = entry["pickler"]
                if pickler == "module":
                    with open(entry["file"], encoding="utf-8") as file:
                        value = importlib.import_module(file.read())
                else:
                    loader = optional("dill") if pickler == "dill" else pickle
                    with open(entry["file"], "rb") as file:
                        value = loader.load(file)
                user_ns[entry["name"]] = value
                results.append(None)
            except BaseException as error:
                if isinstance(error, KeyboardInterrupt):
                    raise
                results.append("%s: %s" % (type(error).__name__, error))
        answer(results)

    user_ns["_jellycell_lsp"] = types.SimpleNamespace(snapshot=snapshot, restore=restore)


_jellycell_lsp_install()
del _jellycell_lsp_install
