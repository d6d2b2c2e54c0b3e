"""The rest of the paper's pipeline (issue 14) on the smoke preset: AffinityNet and the segmentation network train in
`train`'s loop, so a killed run resumes to the same weights; the CLI gives one clear line on bad input."""
import json
import os
import signal
import subprocess
import sys

import torch

SCRIPT = '''
import sys
from seam_nb.config import get_config
from seam_nb.train import train
from seam_nb.affinity import train_affinity
from seam_nb.segment import train_segment
def main():
    runs, kill = sys.argv[1], int(sys.argv[2]) or None
    cfg = get_config('smoke', device='cpu', weights='scratch', max_steps=2, ckpt_every=2)
    cam = train(cfg, runs, progress=False)
    aff = train_affinity(cfg, cam, runs_dir=runs, progress=False, kill_after=kill if sys.argv[3] == 'affinity' else None)
    seg = train_segment(cfg, (aff, cam), runs, progress=False, kill_after=kill if sys.argv[3] == 'segment' else None)
    print(aff.name, seg.name)
if __name__ == '__main__': main()
'''


def run(script, runs, kill, stage):
    return subprocess.run([sys.executable, str(script), str(runs), str(kill), stage], capture_output=True, text=True,
                          env={**os.environ, 'SEAM_NB_PROGRESS': '0'})


def test_killed_segmentation_run_resumes_to_identical_weights(tmp_path):
    "The last network of the chain (its dropout included) killed mid-way and resumed: the weights of an uninterrupted run."

    script = tmp_path / 'chain.py'; script.write_text(SCRIPT)
    ref = run(script, tmp_path / 'a', 0, '')
    assert ref.returncode == 0, ref.stderr[-3000:]
    aff_id, seg_id = ref.stdout.split()
    for stage, rid in (('segment', seg_id),):        # the loop is `fit`'s for all three networks; the CAM network's kill tests: test_train
        killed = run(script, tmp_path / stage, 3, stage)            # 4 steps, a checkpoint every 2: killed after step 3
        assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
        part = tmp_path / stage / rid
        assert torch.load(part / 'ckpt.pt', weights_only=False)['step'] == 2 and not (part / 'done.json').exists()
        again = run(script, tmp_path / stage, 0, '')
        assert again.returncode == 0 and again.stdout.splitlines()[-1].split() == [aff_id, seg_id], again.stderr[-2000:]
        assert 'resuming run' in again.stdout
        assert (part / 'model.pt').read_bytes() == (tmp_path / 'a' / rid / 'model.pt').read_bytes(), f'{stage}: weights differ after resume'
        assert (part / 'metrics.csv').read_text() == (tmp_path / 'a' / rid / 'metrics.csv').read_text()
    cfg = json.loads((tmp_path / 'a' / seg_id / 'config.json').read_text())
    assert cfg['kind'] == 'segment' and cfg['source']['aff_run'] == aff_id


def test_cli_bad_source_is_one_clear_line(seam_nb_cli, tmp_path):
    for cmd, opt in (('segment', '--labels'), ('affinity', '--cam')):
        r = subprocess.run([seam_nb_cli, cmd, '--preset', 'smoke', opt, 'nope', '--root', str(tmp_path / 'data')], capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr.count('\n') == 1 and f"{opt}: 'nope' is not one of" in r.stderr, r.stderr


def test_cli_segment_on_ground_truth(seam_nb_cli, tmp_path):
    r = subprocess.run([seam_nb_cli, 'segment', '--preset', 'smoke', '--weights', 'scratch', '--labels', 'gt', '--root', str(tmp_path / 'data'),
                        '--out', str(tmp_path / 'runs')], capture_output=True, text=True, env={**os.environ, 'SEAM_NB_PROGRESS': '0'})
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'trained on the ground truth: val (8 images): mIoU' in r.stdout


def test_committed_pipeline_chain_points_at_committed_runs():
    "Each committed AffinityNet learnt from a committed CAM network, each segmentation network from a committed AffinityNet."
    from seam_nb.runs import read_manifest
    man = read_manifest()
    kinds = {rid: e for rid, e in man.items() if 'kind' in e}
    assert {e['name'] for e in kinds.values()} >= {'affinity:seam', 'affinity:baseline', 'segment:seam', 'segment:baseline', 'segment:gt'}
    for rid, e in kinds.items():
        src = e['source']
        if e['kind'] == 'affinity': assert src['cam_run'] in man and 'kind' not in man[src['cam_run']], e['name']
        elif src.get('labels') != 'ground truth': assert man[src['aff_run']]['kind'] == 'affinity' and src['cam_run'] in man, e['name']
        assert e['command'].startswith(f"seam-nb {e['kind']} --preset {e['preset']} --seed {e['seed']}"), e['command']
