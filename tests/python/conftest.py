import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _path(var, default):
    return pathlib.Path(os.environ.get(var, default)).resolve()


@pytest.fixture(scope="session")
def cppnn_cli():
    cli = _path("CPPNN_BUILD", ROOT / "build") / "cppnn"
    if not cli.exists():
        pytest.fail(f"{cli} is missing: build first (make build)")
    return cli


@pytest.fixture(scope="session")
def shared_models():
    return _path("CPPNN_SHARED", ROOT.parent / "shared") / "models"


@pytest.fixture(scope="session")
def generated_models():
    return _path("CPPNN_MODELS", ROOT / "build" / "models")


@pytest.fixture(scope="module")
def ctx():
    """A CPU context for the webnn API tests."""
    import webnn

    return webnn.ML().create_context(accelerated=False)
