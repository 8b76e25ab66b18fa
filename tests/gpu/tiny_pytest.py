"""A stand-in for pytest where it is not installed (the GPU machine may lack it): runs the
test_* functions of the given files with the little of pytest they use (raises, skip,
fail, importorskip, mark.skipif, mark.parametrize, module pytestmark; no fixtures).
    python3 tests/gpu/tiny_pytest.py tests/python/test_webnn_mltensor.py ...
Exit status 0 when nothing failed."""
import importlib
import importlib.util
import inspect
import itertools
import re
import sys
import traceback
import types


class Skipped(Exception):
    pass


class _Raises:
    def __init__(self, expected, match=None):
        self.expected, self.match, self.value = expected, match, None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            raise AssertionError(f"DID NOT RAISE {self.expected}")
        if not issubclass(kind, self.expected):
            return False
        if self.match is not None and not re.search(self.match, str(value)):
            raise AssertionError(f"{kind.__name__}({value!s}) does not match {self.match!r}")
        self.value = value
        return True


class _Mark:
    def __init__(self, name, args, kwargs):
        self.name, self.args, self.kwargs = name, args, kwargs

    def __call__(self, fn):
        fn.__dict__.setdefault("_marks", []).append(self)
        return fn


class _MarkFactory:
    def __getattr__(self, name):
        return lambda *args, **kwargs: _Mark(name, args, kwargs)


def _skip(reason=""):
    raise Skipped(reason)


def _fail(reason=""):
    raise AssertionError(reason)


def _importorskip(name):
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise Skipped(f"no {name}: {e}") from e


shim = types.ModuleType("pytest")
shim.importorskip = _importorskip
shim.raises = _Raises
shim.skip = _skip
shim.fail = _fail
shim.mark = _MarkFactory()
shim.fixture = lambda *a, **k: (a[0] if a and callable(a[0]) else (lambda f: f))
shim.approx = lambda v, rel=1e-6, abs=1e-12: v  # noqa: A002 (not used by these tests)
sys.modules.setdefault("pytest", shim)


def skip_reason(marks):
    for m in marks:
        if m.name == "skipif" and m.args and m.args[0]:
            return m.kwargs.get("reason", "skipif")
        if m.name == "skip":
            return m.kwargs.get("reason", "skip")
    return None


def cases(fn):
    params = [m for m in getattr(fn, "_marks", []) if m.name == "parametrize"]
    if not params:
        yield "", {}
        return
    axes = []
    for m in reversed(params):
        names = [n.strip() for n in m.args[0].split(",")] if isinstance(m.args[0], str) else list(m.args[0])
        values = [v if len(names) > 1 else (v,) for v in m.args[1]]
        axes.append([(dict(zip(names, v)), "-".join(map(str, v))) for v in values])
    for combo in itertools.product(*axes):
        kwargs, ids = {}, []
        for k, i in combo:
            kwargs.update(k)
            ids.append(i)
        yield "[" + "-".join(ids) + "]", kwargs


def main(paths):
    passed = failed = skipped = 0
    for path in paths:
        name = re.sub(r"\W", "_", path)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module_marks = getattr(module, "pytestmark", [])
        module_marks = module_marks if isinstance(module_marks, list) else [module_marks]
        for fname, fn in inspect.getmembers(module, inspect.isfunction):
            if not fname.startswith("test_") or fn.__module__ != module.__name__:
                continue
            for suffix, kwargs in cases(fn):
                test = f"{path}::{fname}{suffix}"
                reason = skip_reason(module_marks + getattr(fn, "_marks", []))
                try:
                    if reason:
                        raise Skipped(reason)
                    fn(**kwargs)
                    passed += 1
                    print(f"PASSED {test}")
                except Skipped as e:
                    skipped += 1
                    print(f"SKIPPED {test}: {e}")
                except Exception:  # noqa: BLE001
                    failed += 1
                    print(f"FAILED {test}")
                    traceback.print_exc()
    print(f"== {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
