"""The ONNX backend node tests (onnx 1.17.0's 1,288) through cppnn's importer on the CPU, as a
conformance suite (scripts/onnx_node_tests.py fetches them into build/onnx-node-tests and runs
them; docs/onnx.md shows the coverage). No test may give a wrong value; the tests that fail
must be exactly those in onnx_node_known_failures.txt, so that a regression fails here and a
fix must take its test off the list."""
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import onnx_node_tests  # noqa: E402

BUILD = pathlib.Path(os.environ.get("CPPNN_BUILD", ROOT / "build"))
KNOWN = pathlib.Path(__file__).with_name("onnx_node_known_failures.txt")


def test_onnx_node_tests():
    data = BUILD / "onnx-node-tests"
    onnx_node_tests.fetch(data)
    results = onnx_node_tests.run_all(data)
    assert len(results) == 1288
    by = {}
    for r in results:
        by.setdefault(r["status"], []).append(r)
    print(f"\n[ onnx node tests ] {len(by.get('pass', []))} passed, {len(by.get('fail', []))} failed, "
          f"{len(by.get('wrong', []))} wrong, {len(by.get('unsupported', []))} unsupported")
    wrong = [f"{r['test']}: {r['why']}" for r in by.get("wrong", [])]
    assert not wrong, "wrong values:\n" + "\n".join(wrong)
    failing = {r["test"]: r.get("why", "") for r in by.get("fail", [])}
    known = onnx_node_tests.read_known_failures(KNOWN)
    new = [f"{t}: {failing[t]}" for t in sorted(set(failing) - known)]
    fixed = sorted(known - set(failing))
    assert not new, "newly failing (regressions):\n" + "\n".join(new)
    assert not fixed, ("these pass (or are classified otherwise) now: take them off "
                       f"{KNOWN.name}:\n" + "\n".join(fixed))
    floor = onnx_node_tests.read_passing_floor(KNOWN)
    assert floor > 0
    assert len(by.get("pass", [])) >= floor, (
        f"{len(by.get('pass', []))} node tests pass, {KNOWN.name} was written when {floor} did")
