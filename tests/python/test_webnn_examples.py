"""The builder example runs as a script (small inputs) so that it keeps working; the ONNX
example's test is in test_webnn_onnx.py, with the importer it needs."""
import pathlib
import re
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_image_classifier_example_prints_top_classes():
    res = subprocess.run([sys.executable, str(EXAMPLES / "image_classifier.py"), "--size", "32",
                          "--batch", "2", "--classes", "7", "--top", "3"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("image ")]
    assert len(lines) == 2
    for ln in lines:
        found = re.findall(r"(\d+) \((0\.\d+)\)", ln)
        assert len(found) == 3 and all(0 <= int(c) < 7 for c, _ in found)
        probs = [float(p) for _, p in found]
        assert probs == sorted(probs, reverse=True)
    assert "latency" in res.stdout
