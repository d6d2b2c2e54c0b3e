"""The console script end to end: the synthetic tree is byte-identical for a seed and loads through the VOC loader."""
import hashlib
import json
import subprocess

import numpy as np

from seam_nb.data.voc import SegDataset


def tree_digest(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob('*')) if p.is_file()}


def run(cli, *args):
    return subprocess.run([cli, *args], capture_output=True, text=True)


def test_synth_same_seed_same_bytes_and_voc_loadable(seam_nb_cli, tmp_path):
    a, b, c = tmp_path / 'a', tmp_path / 'b', tmp_path / 'c'
    for out, seed in ((a, '5'), (b, '5'), (c, '6')):
        r = run(seam_nb_cli, 'synth', '--preset', 'smoke', '--seed', seed, '--out', str(out))
        assert r.returncode == 0, r.stderr
    da, db, dc = tree_digest(a), tree_digest(b), tree_digest(c)
    assert da == db, 'same seed must give byte-identical files'
    assert da.keys() == dc.keys() and da != dc, 'another seed gives other images in the same layout'
    for sub in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        assert (a / sub).is_dir()
    for split, n in (('train', 24), ('val', 8)):
        ds = SegDataset(a, split)
        assert len(ds) == n and ds.n_classes == 11
        item = ds[0]
        present = set(np.unique(item['mask'])) - {0, 255}
        assert present == set(np.flatnonzero(item['label']) + 1), 'image-level labels are the classes in the mask'
        assert 255 in np.unique(item['mask']), 'VOC-style 255 borders'
    assert len(ds.verify(progress=False)) == 0


def test_synth_refuses_to_overwrite_other_settings(seam_nb_cli, tmp_path):
    out = tmp_path / 's'
    assert run(seam_nb_cli, 'synth', '--preset', 'smoke', '--out', str(out)).returncode == 0
    r = run(seam_nb_cli, 'synth', '--preset', 'smoke', '--seed', '1', '--out', str(out))
    assert r.returncode == 2 and 'other settings' in r.stderr and str(out) in r.stderr


def test_bad_options_name_the_field(seam_nb_cli):
    r = run(seam_nb_cli, 'config', '--preset', 'smoke', '--mark-prob', '1.5')
    assert r.returncode == 2 and 'SynthConfig.mark_prob' in r.stderr
    r = run(seam_nb_cli, 'config', '--er', 'False', '--ecr', 'False', '--pcm', 'no')
    cfg = json.loads(r.stdout)
    assert r.returncode == 0 and (cfg['er'], cfg['pcm'], cfg['ecr']) == (False, False, False), '"False" is false (unlike argparse type=bool)'
    r = run(seam_nb_cli, 'config', '--no-such-field', '1')
    assert r.returncode == 2 and 'no-such-field' in r.stderr
