"""The evaluation protocol against an independent reference, the CAM cache's safety, and clear errors for bad inputs."""
import json
import subprocess
import warnings

import numpy as np
import pytest

from seam_nb.cams import evaluate_cams
from seam_nb.evaluate import ThresholdSweep, confusion, scores
from seam_nb.infer import CamSpec


def reference_sweep(cams, gts, thresholds, n_classes):
    """Per-threshold, per-pixel loop written without numpy tricks: a pixel is labelled with the first arg-max of
    [t, cam_1, ..., cam_K], with t in the CAM's precision as the official code (np.ones_like(cam) * t); 255 pixels are skipped; IoU_c = TP / (GT + P - TP); classes with an empty union are dropped."""
    out = []
    for t in thresholds:
        tp, npred, ngt = [0] * n_classes, [0] * n_classes, [0] * n_classes
        for cam, gt in zip(cams, gts):
            for y in range(gt.shape[0]):
                for x in range(gt.shape[1]):
                    g = int(gt[y, x])
                    if g == 255: continue
                    label, best = 0, cam.dtype.type(t)
                    for k in range(cam.shape[0]):
                        if cam[k, y, x] > best: label, best = k + 1, cam[k, y, x]
                    ngt[g] += 1; npred[label] += 1; tp[g] += label == g
        ious = [tp[c] / (ngt[c] + npred[c] - tp[c]) for c in range(n_classes) if ngt[c] + npred[c] - tp[c] > 0]
        out.append(100 * sum(ious) / len(ious))
    return out


def test_sweep_matches_slow_reference():
    rng = np.random.default_rng(1)
    thresholds = [0.0, 0.1, 0.25, 0.3, 0.5, 0.59]
    cams, gts = [], []
    for _ in range(4):
        cam = np.round(rng.random((4, 7, 9)), 2).astype(np.float32)   # ties with the thresholds
        cam[rng.integers(0, 4)] = 0                                     # an absent class, as after label masking
        gt = rng.integers(0, 4, (7, 9)); gt[rng.random((7, 9)) < 0.15] = 255
        cams.append(cam); gts.append(gt)
    sweep = ThresholdSweep(6, thresholds)          # classes 4 and 5 never occur: must be n/a, not 0 or 100
    for c, g in zip(cams, gts): sweep.add(c, g)
    tab = sweep.table()
    np.testing.assert_allclose(tab.miou.values, reference_sweep(cams, gts, thresholds, 6), rtol=1e-12)
    assert tab[['iou_5']].isna().all().all()


def test_hand_computed_iou_with_ignore_and_absent_classes():
    gt = np.array([[0, 0, 1, 1],
                   [0, 255, 1, 3]])
    pred = np.array([[0, 1, 1, 1],
                     [1, 2, 1, 0]])
    s = scores(confusion(pred, gt, 5))
    # bg: TP 1, GT 3, P 2 -> 1/4; class 1: TP 3, GT 3, P 5 -> 3/5; class 2: only predicted on the 255 pixel -> n/a;
    # class 3: GT 1, P 0 -> 0; class 4: absent from both -> n/a
    np.testing.assert_allclose(s['iou'][[0, 1, 3]], [25.0, 60.0, 0.0])
    assert np.isnan(s['iou'][2]) and np.isnan(s['iou'][4])
    assert s['miou'] == pytest.approx((25 + 60 + 0) / 3)
    np.testing.assert_allclose(s['fn'][[0, 1, 3]], [2 / 4, 0, 1]); np.testing.assert_allclose(s['fp'][[0, 1, 3]], [1 / 4, 2 / 5, 0])


def test_cache_is_reused_and_never_shared_between_variants(smoke_run, monkeypatch):
    cfg, run, data = smoke_run
    monkeypatch.setenv('SEAM_NB_DATA', str(data))
    a = evaluate_cams(cfg, run, progress=False)
    assert a['cache'].stats['computed'] > 0 and a['cache'].stats['reused'] == 0
    b = evaluate_cams(cfg, run, progress=False)
    assert b['cache'].stats['computed'] == 0 and b['cache'].dir == a['cache'].dir
    assert a['table'].equals(b['table'])
    c = evaluate_cams(cfg, run, CamSpec.of(cfg, scales=(1.0,)), progress=False)
    assert c['cache'].dir != a['cache'].dir and c['cache'].stats['reused'] == 0
    # a file of another variant copied into this variant's folder is detected and recomputed
    victim = a['cache'].path(sorted(p.stem for p in a['cache'].dir.glob('*.npz'))[0])
    victim.write_bytes(next(c['cache'].dir.glob('*.npz')).read_bytes())
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        d = evaluate_cams(cfg, run, progress=False)
    assert d['cache'].stats['recomputed'] == 1 and any(str(victim) in str(x.message) for x in w)
    assert d['table'].equals(a['table'])


def test_missing_checkpoint_names_the_run(smoke_run, monkeypatch, tmp_path):
    cfg, run, data = smoke_run
    monkeypatch.setenv('SEAM_NB_DATA', str(data))
    empty = tmp_path / 'runs' / 'not-trained'
    empty.mkdir(parents=True)
    from seam_nb.runs import RunError
    with pytest.raises(RunError, match='not-trained: the run has not finished'):
        evaluate_cams(cfg, empty, progress=False)


def test_cli_evaluate_cam_dir_matches_library(smoke_run, monkeypatch, seam_nb_cli, tmp_path):
    cfg, run, data = smoke_run
    monkeypatch.setenv('SEAM_NB_DATA', str(data))
    a = evaluate_cams(cfg, run, progress=False)
    from seam_nb.data.voc import dataset_root
    out = tmp_path / 'r.json'
    r = subprocess.run([seam_nb_cli, 'evaluate', '--preset', 'smoke', '--voc-root', str(dataset_root(cfg)), '--cam-dir',
                        str(a['cache'].dir), '--out', str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert res['miou'] == pytest.approx(a['best']['miou'], abs=1e-3)
    assert res['threshold'] == pytest.approx(a['best']['threshold'])
    assert len(res['curve']) == len(a['table'])
