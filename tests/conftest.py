import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    "Every test generates and caches data in its own temporary folder, never in the project's data/."
    monkeypatch.setenv('SEAM_NB_DATA', str(tmp_path / 'seam-nb-data'))


@pytest.fixture
def seam_nb_cli():
    "Path of the installed `seam-nb` console script (next to this interpreter)."
    return str(Path(sys.executable).parent / 'seam-nb')
