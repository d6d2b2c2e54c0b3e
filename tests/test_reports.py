"""The report runner executes a report notebook through papermill and writes its outputs."""
import json

from seam_nb.reports import REPORTS, report_notebook, run_report


def test_every_report_notebook_has_a_parameters_cell():
    for name in REPORTS:
        nb = json.loads(report_notebook(name).read_text())
        tagged = [c for c in nb['cells'] if 'parameters' in c.get('metadata', {}).get('tags', [])]
        assert len(tagged) == 1, f'{name}: papermill needs exactly one cell tagged "parameters"'
        src = ''.join(tagged[0]['source'])
        for p in ('preset', 'seed', 'out_dir'):
            assert f'{p} =' in src, f'{name}: parameter {p} missing'


def test_data_report_smoke(tmp_path):
    meta = run_report('data', tmp_path, preset='smoke', progress=False)
    out = tmp_path / 'data'
    for f in ('data.ipynb', 'table.md', 'table.csv', 'per_class.csv', 'oracles.csv', 'samples.png', 'objects.png', 'meta.json'):
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    assert meta['preset'] == 'smoke' and meta['wall_time_s'] > 0 and len(meta['dataset_fingerprint']) == 64
    assert meta['command'].startswith('papermill nbs/reports/data.ipynb ')
    assert '| images ' in (out / 'table.md').read_text()
