"""The report runner executes a report notebook through papermill and writes its outputs."""
import json
import re

import pytest

from seam_nb.reports import REPORTS, report_notebook, reproduce, run_report, run_grid


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


FILES = {'calibration': ('table.md', 'table.csv', 'crf_regions.csv', 'designs.png', 'criteria.png', 'meta.json'),
         'localization': ('table.md', 'table.csv', 'curves.csv', 'curves.png', 'meta.json', 'localization.ipynb'),
         'multiscale': ('table.md', 'table.csv', 'curves.png', 'meta.json'),
         'ablation': ('table.md', 'table.csv', 'examples.png', 'meta.json'),
         'scale_range': ('table.md', 'table.csv', 'ranges.png', 'meta.json'),
         'equivariance': ('table.md', 'table.csv', 'consistency.csv', 'consistency.png', 'fig1.png', 'meta.json'),
         'pipeline': ('table.md', 'table.csv', 'stages.png', 'examples.png', 'meta.json')}


def test_reproduce_smoke_writes_every_report_and_the_index(tmp_path, monkeypatch):
    monkeypatch.setenv('SEAM_NB_RUNS', str(tmp_path / 'runs'))
    times = reproduce('smoke', 0, tmp_path / 'reports')
    assert set(times) == set(REPORTS) | {'total'}
    for name, files in FILES.items():
        for f in files:
            p = tmp_path / 'reports' / name / f
            assert p.is_file() and p.stat().st_size > 0, p
        meta = json.loads((tmp_path / 'reports' / name / 'meta.json').read_text())
        assert meta['runs'] and meta['package_version'] and meta['device'] and meta['wall_time_s'] > 0
        assert meta['command'].startswith(f'papermill nbs/reports/{name}.ipynb ')
        nb = json.loads((tmp_path / 'reports' / name / f'{name}.ipynb').read_text())
        outs = [o for c in nb['cells'] for o in c.get('outputs', [])]
        assert any('image/png' in o.get('data', {}) for o in outs), f'{name}: figures shown inline as well as saved'
        assert not any('application/vnd.jupyter.widget-view+json' in o.get('data', {}) for o in outs), f'{name}: a progress widget saved frozen'
        injected = next(''.join(c['source']) for c in nb['cells'] if 'injected-parameters' in c['metadata'].get('tags', []))
        assert f'out_dir = "{tmp_path / "reports" / name}"' in injected, injected   # as given, not the staging folder
        html = (tmp_path / 'reports' / name / f'{name}.html').read_text()   # standalone: figures embedded, no CDN
        assert 'data:image/png;base64' in html and not re.search(r'<(script|link)\b[^>]*\b(src|href)="https?://', html), name
    index = (tmp_path / 'reports' / 'README.md').read_text()
    for name in FILES: assert f'papermill nbs/reports/{name}.ipynb' in index and f']({name}/{name}.html)' in index
    assert 'paper mIoU (%)' in index and 'n/a' in index and 'UNVERIFIED' in index and '](localization/curves.png)' in index
    # the calibration table: the columns, one chosen design, never the reference row
    import pandas as pd
    cal = pd.read_csv(tmp_path / 'reports' / 'calibration' / 'table.csv')
    assert list(cal.columns[:8]) == ['design', 'chosen', 'c1_ms_gain', 'c2_crf_gain', 'c3_control_gain', 'c4_mfn_minus_mfp',
                                     'c5_min_f1', 'c6_baseline_ms_miou']
    assert cal.chosen.sum() == 1 and not cal[cal.design == 'today'].chosen.any()
    # the pipeline: every stage of both CAM models and the ground-truth upper bound, each network named in meta.json
    pipe = json.loads((tmp_path / 'reports' / 'pipeline' / 'meta.json').read_text())
    assert {m['model'] for m in pipe['models']} >= {'affinity:seam', 'segment:seam', 'affinity:baseline', 'segment:baseline', 'segment:gt'}
    assert 'segmentation on ground truth' in (tmp_path / 'reports' / 'pipeline' / 'table.md').read_text()


def test_seeded_report_aggregates_the_seeds_asked_for(tmp_path, monkeypatch):
    "The headline tables take `seeds` (reproduce passes it to every seeded report): mean ± std over them."
    monkeypatch.setenv('SEAM_NB_RUNS', str(tmp_path / 'runs'))
    meta = run_report('localization', tmp_path, preset='smoke', progress=False, seeds='0,1')
    loc = (tmp_path / 'localization' / 'table.md').read_text()
    assert ' ± ' in loc and '(2 seeds)' in loc and meta['params']['seeds'] == '0,1'


def test_reproduce_rejects_unknown_parameters(tmp_path):
    with pytest.raises(ValueError, match='no report takes'):
        reproduce('smoke', 0, tmp_path, only=('localization',), learning_rate=3)


def test_grid_aggregates_over_seeds(tmp_path, monkeypatch):
    monkeypatch.setenv('SEAM_NB_RUNS', str(tmp_path / 'runs'))
    agg = run_grid('scale_range', 'seed', ['0', '1'], tmp_path / 'grid', 'smoke', progress=False)
    assert (tmp_path / 'grid' / 'scale_range' / 'seed=0' / 'table.md').is_file()
    assert (tmp_path / 'grid' / 'scale_range' / 'seed=1' / 'meta.json').is_file()
    assert (agg['n'] == 2).all() and ' ± ' in agg['miou'].iloc[0]
    assert '-p seed 1' in json.loads((tmp_path / 'grid' / 'scale_range' / 'seed=1' / 'meta.json').read_text())['command']
