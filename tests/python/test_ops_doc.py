"""docs/ops.md (generated from include/cppnn/ops.def) against the Python package: every op it
lists has its MLGraphBuilder method, so an op added to ops.def without a Python binding fails
here by name."""
import pathlib
import re

import webnn

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "ops.md"


def _table():
    """The op table's header and rows (lists of cells)."""
    header, rows = None, []
    for line in DOC.read_text().splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "op":
            header = cells
        elif header and len(cells) == len(header) and not cells[0].startswith("---"):
            rows.append(cells)
    return header, rows


def _rows():
    return _table()[1]


def test_doc_lists_the_ops():
    names = [r[0] for r in _rows()]
    assert len(names) > 80
    assert "conv2d" in names and "add" in names and "generatedKernel" not in names


def test_every_op_has_its_builder_method():
    missing = []
    header, rows = _table()
    python = header.index("Python")
    for row in rows:
        method = re.fullmatch(r"`(\w+)`", row[python])
        assert method, row
        if not callable(getattr(webnn.MLGraphBuilder, method.group(1), None)):
            missing.append(f"{row[0]} ({method.group(1)})")
    assert not missing, "no Python method for: " + ", ".join(missing)
