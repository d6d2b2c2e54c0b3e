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


@pytest.fixture(scope='module')
def smoke_run(tmp_path_factory):
    "(cfg, run folder, data folder) of a tiny finished training run, one per test module (tests point SEAM_NB_DATA at data)."
    import os
    from seam_nb.config import get_config
    from seam_nb.train import train
    d = tmp_path_factory.mktemp('run')
    old = os.environ.get('SEAM_NB_DATA')
    os.environ['SEAM_NB_DATA'] = str(d / 'data')          # module-scoped: the autouse fixture is per test
    try:
        cfg = get_config('smoke', weights='scratch', device='cpu', max_steps=2)
        return cfg, train(cfg, d / 'runs', progress=False), d / 'data'
    finally:
        if old is None: del os.environ['SEAM_NB_DATA']
        else: os.environ['SEAM_NB_DATA'] = old
