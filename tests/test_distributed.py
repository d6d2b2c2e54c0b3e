"""`torchrun --nproc_per_node 2 -m seam_nb train` is one training run: one process group (gloo on CPU here), one run
folder written by rank 0, `done.json` with `world_size: 2`, and the loss curve and weights of the 1-process run with the
same global batch (up to the order of floating-point sums). A killed 2-process run resumes to identical weights."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

BIN = Path(sys.executable).parent
FLAGS = {'seam': [], 'baseline': ['--er', 'false', '--pcm', 'false', '--ecr', 'false']}   # baseline: PCM's unused parameters


def args(command, data, out, *extra):
    "The arguments of `seam-nb COMMAND` for the 4-step smoke run."
    return [command, '--preset', 'smoke', '--weights', 'scratch', '--device', 'cpu', '--root', str(data),
            '--max-steps', '4', '--ckpt-every', '2', '--out', str(out), *extra]


def seam_nb(nproc, command, data, out, *extra):
    "The command line of `seam-nb COMMAND` in one process or under torchrun with `nproc`."
    launcher = [str(BIN / 'torchrun'), '--standalone', '--nproc_per_node', str(nproc), '-m', 'seam_nb'] if nproc > 1 else [str(BIN / 'seam-nb')]
    return launcher + args(command, data, out, *extra)


def in_process(command, data, out, *extra):
    "`seam-nb COMMAND` in this process (one process: no group; cheaper than starting Python and torch again)."
    from seam_nb.cli import main
    assert main(args(command, data, out, *extra)) == 0


def train_cmd(nproc, data, out, *extra): return seam_nb(nproc, 'train', data, out, *extra)


def run_ok(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'SEAM_NB_PROGRESS': '0'})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return r


def only_run(folder):
    runs = [p for p in folder.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def losses(run):
    with open(run / 'metrics.csv') as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    "{(flags, nproc): finished run folder} for the SEAM and baseline smoke runs, in 1 and 2 processes, on one dataset."
    d = tmp_path_factory.mktemp('ddp')
    out = {}
    for name, extra in FLAGS.items():
        run_ok(train_cmd(2, d / 'data', d / f'{name}-2', *extra))      # first: rank 0 generates the data, rank 1 waits for it
        in_process('train', d / 'data', d / f'{name}-1', *extra)
        out[name, 2], out[name, 1] = only_run(d / f'{name}-2'), only_run(d / f'{name}-1')
    out['data'] = d / 'data'
    return out


@pytest.mark.parametrize('name', FLAGS)
def test_two_processes_train_the_one_process_run(runs, name):
    one, two = runs[name, 1], runs[name, 2]
    assert one.name == two.name, 'the run id does not depend on the number of processes'
    d1, d2 = (json.loads((r / 'done.json').read_text()) for r in (one, two))
    assert (d1['world_size'], d2['world_size']) == (1, 2)
    assert not (two / 'ckpt.pt').exists() and not list(two.parent.glob('*/.*partial*'))
    l1, l2 = losses(one), losses(two)
    assert [r['step'] for r in l2] == [1, 2, 3, 4] and l1[0].keys() == l2[0].keys()
    for a, b in zip(l1, l2):                           # the logged losses are the global batch's (averaged over ranks)
        for k in a: assert a[k] == pytest.approx(b[k], rel=1e-4, abs=2e-5), (a['step'], k, a[k], b[k])
    w1, w2 = torch.load(one / 'model.pt'), torch.load(two / 'model.pt')
    assert w1.keys() == w2.keys()
    for k in w1: torch.testing.assert_close(w2[k], w1[k], rtol=1e-5, atol=1e-6, msg=lambda m: f'{k}: {m}')


def test_the_tolerance_separates_other_runs(runs):
    "Control: the agreement above is not vacuous — the baseline's curve (another loss, same data) is far outside it."
    assert max(abs(a['cls'] - b['cls']) for a, b in zip(losses(runs['baseline', 2]), losses(runs['seam', 2]))) > 1e-3


def test_killed_two_process_run_resumes(runs, tmp_path):
    data, out = runs['data'], tmp_path / 'killed'
    r = subprocess.run(train_cmd(2, data, out, '--kill-after', '2'), capture_output=True, text=True)
    assert r.returncode != 0 and 'Signal 9 (SIGKILL)' in r.stderr, (r.returncode, r.stderr[-2000:])
    run = only_run(out)
    assert run.name == runs['seam', 2].name and not (run / 'done.json').exists()
    assert torch.load(run / 'ckpt.pt', weights_only=False)['step'] == 2
    r = run_ok(train_cmd(2, data, out))
    assert 'resuming run' in r.stdout and 'from step 2 with 2 processes' in r.stdout
    assert (run / 'model.pt').read_bytes() == (runs['seam', 2] / 'model.pt').read_bytes(), 'resumed == uninterrupted, bit for bit'
    assert (run / 'metrics.csv').read_text() == (runs['seam', 2] / 'metrics.csv').read_text()
    assert json.loads((run / 'done.json').read_text())['world_size'] == 2



def test_infer_shares_the_images_and_agrees(runs, tmp_path, capsys):
    "`torchrun ... infer --crf`: the processes share the images' CAMs and CRF labels; rank 0 reports the 1-process numbers."
    import re
    import shutil
    out = {}
    for nproc in (2, 1):
        shutil.copytree(runs['seam', 2].parent, tmp_path / f'runs{nproc}', ignore=shutil.ignore_patterns('.lock'))
        if nproc > 1: stdout = run_ok(seam_nb(nproc, 'infer', runs['data'], tmp_path / f'runs{nproc}', '--crf')).stdout
        else:
            in_process('infer', runs['data'], tmp_path / f'runs{nproc}', '--crf')
            stdout = capsys.readouterr().out
        lines = [l for l in stdout.splitlines() if l.startswith('run ')]
        assert len(lines) == 1, r.stdout                                   # rank 0 alone reports
        out[nproc] = lines[0]
        assert f"{nproc} process{'es' if nproc > 1 else ''}" in lines[0]
        cams = next((tmp_path / f'runs{nproc}' / runs['seam', 2].name / 'cams').iterdir())
        n_eval = len(list(cams.glob('*.npz')))
        assert n_eval > 4 and len(list(next(cams.glob('crf-*')).glob('*.png'))) == n_eval   # every image: a CAM and a CRF label
    numbers = lambda line: [float(x) for x in re.findall(r'mIoU ([0-9.]+) %', line)]
    assert len(numbers(out[2])) == 2 and numbers(out[2]) == pytest.approx(numbers(out[1]), abs=0.011), out
