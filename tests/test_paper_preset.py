"""The `paper` preset's code path end to end on a tiny VOC-layout tree made here: ResNet-38 (official names, frozen
blocks, mean-colour padding) trained for two steps, multi-scale CAM inference, the threshold sweep and a report notebook
through papermill with `-p preset paper -p root ...` — everything a VOC user runs, at toy sizes (~1 min on 2 cores).
The numbers mean nothing; that the path runs, and says it ran the paper preset on ResNet-38, is the test."""
import json
import os
import subprocess
import sys
from pathlib import Path

from seam_nb.data.voc import fake_voc

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_paper_preset_end_to_end_on_a_tiny_voc_tree(tmp_path):
    voc = fake_voc(tmp_path / 'VOCdevkit' / 'VOC2012', n=6, size=(72, 56))
    ids = (voc / 'ImageSets/Segmentation/train.txt').read_text()
    for split in ('train_aug', 'val'): (voc / f'ImageSets/Segmentation/{split}.txt').write_text(ids)
    out = tmp_path / 'localization'
    overrides = 'weights=scratch;crop_size=64;resize_long=64,96;batch_size=2;max_steps=2;num_workers=0;scales=1.0,0.5'
    env = {**os.environ, 'SEAM_NB_RUNS': str(tmp_path / 'runs'), 'OMP_WAIT_POLICY': 'PASSIVE', 'SEAM_NB_PROGRESS': '0'}
    r = subprocess.run([str(BIN / 'papermill'), 'nbs/reports/localization.ipynb', str(tmp_path / 'localization.ipynb'), '--cwd', '.',
                        '-p', 'preset', 'paper', '-p', 'root', str(voc), '-p', 'out_dir', str(out), '-p', 'overrides', overrides],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    table = (out / 'table.md').read_text()
    assert 'preset `paper`, backbone resnet38' in table and '6 images of the train split' in table
    meta = json.loads((out / 'meta.json').read_text())
    runs = [json.loads((p / 'config.json').read_text()) for p in (tmp_path / 'runs').iterdir() if (p / 'done.json').is_file()]
    assert len(runs) == 2                                               # the baseline and SEAM, trained here
    for c in runs:
        t = c['config']['train']
        assert (t['backbone'], t['frozen'], t['pad']) == ('resnet38', 'conv1a,b2,b2_1,b2_2', 'mean')
    assert meta['preset'] == 'paper'
