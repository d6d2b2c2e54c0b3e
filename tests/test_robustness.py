"""Issue 10's defects as regression tests: reproducible weights, one writer per run, caches that detect damage, one clear
line (exit status 2) for every user error, reports that change only when they succeed, and a short message on Ctrl-C."""
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path

import pytest
import torch

from seam_nb.config import get_config


def cli(seam_nb_cli, *args, env=None, **kw):
    return subprocess.run([seam_nb_cli, *map(str, args)], capture_output=True, text=True, env={**os.environ, **(env or {})}, **kw)


def one_line_error(r, *want, status=2):
    "The command failed with `status`, its last stderr line is the error naming everything in `want`, and no traceback."
    assert r.returncode == status, (r.returncode, r.stderr[-2000:])
    assert 'Traceback' not in r.stderr, r.stderr[-3000:]
    last = r.stderr.strip().splitlines()[-1]
    assert 'error:' in last, r.stderr[-2000:]
    for w in want: assert str(w) in last, (w, last)
    return last


# ---- 1. the same configuration gives byte-identical weights -----------------------------------------------------------
@pytest.mark.parametrize('weights', ['', 'scratch'])
def test_two_runs_of_one_config_give_byte_identical_weights(seam_nb_cli, tmp_path, weights):
    runs = []
    for k in (1, 2):
        r = cli(seam_nb_cli, 'train', '--preset', 'smoke', '--device', 'cpu', '--max-steps', '3', '--out', tmp_path / f'runs{k}',
                *(['--weights', weights] if weights else []))
        assert r.returncode == 0, r.stderr[-2000:]
        runs.append(next(p for p in (tmp_path / f'runs{k}').iterdir() if p.is_dir()))
    assert runs[0].name == runs[1].name
    assert (runs[0] / 'model.pt').read_bytes() == (runs[1] / 'model.pt').read_bytes()
    assert (runs[0] / 'metrics.csv').read_text() == (runs[1] / 'metrics.csv').read_text()


# ---- 2. caches: a damaged file is named and recomputed -------------------------------------------------------------------
def flip_bytes(path: Path, at: float = 0.5, n: int = 3):
    raw = bytearray(path.read_bytes())
    for k in range(n): raw[int(len(raw) * at) + k] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_corrupt_cam_file_is_named_and_recomputed(smoke_run, monkeypatch):
    from seam_nb.cams import evaluate_cams
    cfg, run, data = smoke_run
    monkeypatch.setenv('SEAM_NB_DATA', str(data))
    a = evaluate_cams(cfg, run, progress=False)
    victim = sorted(a['cache'].dir.glob('*.npz'))[1]
    flip_bytes(victim)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        b = evaluate_cams(cfg, run, progress=False)
    assert b['cache'].stats['recomputed'] == 1 and any(str(victim) in str(x.message) for x in w)
    assert a['table'].equals(b['table'])


def test_corrupt_crf_label_is_named_and_recomputed(smoke_run, monkeypatch):
    from seam_nb.crf import evaluate_crf
    cfg, run, data = smoke_run
    monkeypatch.setenv('SEAM_NB_DATA', str(data))
    a = evaluate_crf(cfg, run, alpha=24, workers=1, progress=False)
    victim = sorted(Path(a['dir']).glob('*.png'))[0]
    raw = bytearray(victim.read_bytes()); i = raw.index(b'IDAT') + 12; raw[i] ^= 0x01; victim.write_bytes(bytes(raw))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        b = evaluate_crf(cfg, run, alpha=24, workers=1, progress=False)
    assert any(str(victim) in str(x.message) for x in w), [str(x.message) for x in w]
    assert a['miou'] == b['miou']


def test_damaged_checkpoint_restarts_the_run_to_the_same_weights(seam_nb_cli, tmp_path):
    common = ['train', '--preset', 'smoke', '--weights', 'scratch', '--device', 'cpu', '--max-steps', '4', '--ckpt-every', '2']
    assert cli(seam_nb_cli, *common, '--out', tmp_path / 'a').returncode == 0
    r = cli(seam_nb_cli, *common, '--out', tmp_path / 'b', '--kill-after', '3')
    assert r.returncode == -signal.SIGKILL
    run_b = next((tmp_path / 'b').iterdir())
    flip_bytes(run_b / 'ckpt.pt', at=0.6)
    r = cli(seam_nb_cli, *common, '--out', tmp_path / 'b')
    assert r.returncode == 0 and str(run_b / 'ckpt.pt') in r.stderr and 'restarting this run from step 0' in r.stderr
    run_a = next((tmp_path / 'a').iterdir())
    assert (run_a / 'model.pt').read_bytes() == (run_b / 'model.pt').read_bytes()


# ---- 3. one writer per run -------------------------------------------------------------------------------------------------
def test_two_trainings_of_one_config_at_once(seam_nb_cli, tmp_path):
    args = [seam_nb_cli, 'train', '--preset', 'smoke', '--weights', 'scratch', '--device', 'cpu', '--max-steps', '8',
            '--ckpt-every', '1', '--out', str(tmp_path / 'runs')]
    cli(seam_nb_cli, 'synth', '--preset', 'smoke')                        # both processes then start training at once
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs): assert p.returncode == 0, err[-2000:]
    assert any('is in use by pid' in err and 'waiting' in err for _, err in outs), 'the second process waited for the first'
    runs = [p for p in (tmp_path / 'runs').iterdir() if p.is_dir()]
    assert len(runs) == 1 and (runs[0] / 'done.json').is_file()
    assert not [p for p in runs[0].iterdir() if p.name.endswith('.tmp')], 'no temporary file left behind'


# ---- 4. every user error: one line, exit status 2 -------------------------------------------------------------------------
def test_paper_preset_without_data(seam_nb_cli, tmp_path):
    r = cli(seam_nb_cli, 'reproduce', '--preset', 'paper', '--out', tmp_path / 'reports')
    one_line_error(r, 'dataset=voc needs the VOC root', '--root')
    assert not (tmp_path / 'reports').exists()


@pytest.mark.parametrize('args,want', [
    (['--device', 'bogus'], "device: 'bogus' is not a device"),
    (['--seed', '-1'], 'seed: -1 is outside'),
    (['--lr', 'nan'], "TrainConfig.lr: 'nan' is not a finite number"),
    (['--lr', 'inf'], "TrainConfig.lr: 'inf' is not a finite number"),
])
def test_bad_options(seam_nb_cli, tmp_path, args, want):
    one_line_error(cli(seam_nb_cli, 'train', '--preset', 'smoke', '--out', tmp_path / 'runs', *args), want)


@pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has a GPU')
def test_cuda_without_a_gpu(seam_nb_cli, tmp_path):
    one_line_error(cli(seam_nb_cli, 'train', '--preset', 'smoke', '--device', 'cuda', '--out', tmp_path / 'runs'),
                   "device: 'cuda' was asked for but this machine has no usable CUDA GPU")


def test_diverging_loss_stops_and_never_marks_the_run_done(seam_nb_cli, tmp_path):
    r = cli(seam_nb_cli, 'train', '--preset', 'smoke', '--lr', '1e9', '--out', tmp_path / 'runs')
    one_line_error(r, 'the loss is not finite at step', 'lower the learning rate')
    assert not list((tmp_path / 'runs').glob('*/done.json')) and not list((tmp_path / 'runs').glob('*/model.pt'))


def test_unwritable_runs_and_reports_folders(seam_nb_cli, tmp_path):
    blocker = tmp_path / 'a-file'; blocker.write_text('not a folder')
    one_line_error(cli(seam_nb_cli, 'train', '--preset', 'smoke', '--out', blocker / 'runs'), blocker / 'runs', 'cannot be written')
    one_line_error(cli(seam_nb_cli, 'reproduce', '--preset', 'smoke', '--out', blocker / 'reports'), blocker / 'reports', 'cannot be written')


def test_corrupt_weights_file(seam_nb_cli, tmp_path):
    w = tmp_path / 'w.pt'; w.write_bytes(b'PK\x03\x04 not really a torch file')
    one_line_error(cli(seam_nb_cli, 'train', '--preset', 'smoke', '--weights', w, '--out', tmp_path / 'runs'), w, 'cannot be read')


def test_non_utf8_split_file(seam_nb_cli, tmp_path):
    from seam_nb.data.voc import fake_voc
    root = fake_voc(tmp_path / 'VOC2012', n=2)
    f = root / 'ImageSets/Segmentation/train.txt'; f.write_bytes(b'2007_000000\n\xe9t\xe9\n')
    one_line_error(cli(seam_nb_cli, 'check-data', '--preset', 'paper', '--root', root, '--splits', 'train'), f, 'not UTF-8')


def test_corrupt_manifest(seam_nb_cli, tmp_path):
    ck = tmp_path / 'ckpt'; ck.mkdir(); (ck / 'manifest.json').write_text('{"format": 2, "runs": {}, "sha')
    r = cli(seam_nb_cli, 'reproduce', '--preset', 'smoke', '--out', tmp_path / 'reports', env={'SEAM_NB_CHECKPOINTS': str(ck)})
    one_line_error(r, ck / 'manifest.json', 'git checkout')


def test_corrupt_committed_checkpoint(tmp_path, monkeypatch):
    from seam_nb.backbone import WeightsError
    from seam_nb.checkpoints import ensure_run, export_checkpoint, model_config
    from seam_nb.train import train
    monkeypatch.setenv('SEAM_NB_CHECKPOINTS', str(tmp_path / 'ckpt'))
    cfg = model_config(get_config('smoke', weights='scratch', device='cpu', max_steps=2), 'baseline')
    e = export_checkpoint(train(cfg, tmp_path / 'runs', progress=False), 'baseline', cfg)
    flip_bytes(tmp_path / 'ckpt' / e['file'])
    with pytest.raises(WeightsError, match='sha256 mismatch'):
        ensure_run(cfg, runs_dir=tmp_path / 'other', progress=False)


def test_changed_initial_weights_do_not_silently_orphan_the_committed_checkpoints(tmp_path, monkeypatch):
    "make pretrain elsewhere gives other weights: reproduce must say so and stop, not quietly retrain for 1.5 hours."
    import shutil
    from seam_nb.checkpoints import ensure_run, export_checkpoint, model_config
    from seam_nb.paths import default_weights
    from seam_nb.runs import RunError
    from seam_nb.train import train
    monkeypatch.setenv('SEAM_NB_CHECKPOINTS', str(tmp_path / 'ckpt'))
    w = tmp_path / 'w.pt'; shutil.copy(default_weights(), w)
    cfg = model_config(get_config('smoke', weights=str(w), device='cpu', max_steps=2), 'seam')
    export_checkpoint(train(cfg, tmp_path / 'runs', progress=False), 'seam', cfg)
    ck = torch.load(w, weights_only=True); ck['meta']['note'] = 'regenerated elsewhere'; torch.save(ck, w)   # same shapes, other bytes
    with pytest.raises(RunError, match='initial weights'):
        ensure_run(cfg, 'seam', runs_dir=tmp_path / 'runs2', progress=False)
    assert not list((tmp_path / 'runs2').glob('*/done.json'))
    assert (ensure_run(cfg, 'seam', from_scratch=True, runs_dir=tmp_path / 'runs2', progress=False) / 'done.json').is_file()


# ---- 5. reports change only when they succeed; Ctrl-C is one short line ----------------------------------------------
def test_failed_report_keeps_the_committed_one(tmp_path):
    from seam_nb.reports import ReportError, run_report
    out = tmp_path / 'reports' / 'scale_range'; out.mkdir(parents=True)
    (out / 'table.md').write_text('the committed table')
    with pytest.raises(ReportError, match="report 'scale_range': .*dataset=voc needs the VOC root"):
        run_report('scale_range', tmp_path / 'reports', preset='paper', progress=False)
    assert (out / 'table.md').read_text() == 'the committed table' and sorted(p.name for p in out.iterdir()) == ['table.md']
    assert (tmp_path / 'reports' / '.scale_range.failed' / 'scale_range.ipynb').is_file(), 'the failed notebook is kept for reading'


def test_interrupted_reproduce_says_so_in_one_line(seam_nb_cli, tmp_path):
    env = {**os.environ, 'SEAM_NB_RUNS': str(tmp_path / 'runs')}
    # two reports, so that the interrupt lands inside one of them however fast the first one runs
    p = subprocess.Popen([seam_nb_cli, 'reproduce', '--preset', 'smoke', '--only', 'localization,multiscale', '--out', str(tmp_path / 'reports')],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    deadline = time.time() + 120
    # the partial folder exists from the report's start (papermill may write its notebook only later)
    while time.time() < deadline and not list(tmp_path.glob('reports/.localization.partial-*')): time.sleep(0.2)
    assert p.poll() is None, 'reproduce ended before it could be interrupted'
    time.sleep(4)                                                           # inside a notebook, training or scoring
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, err[-3000:])
    assert 'interrupted; rerun the same command to resume' in err and 'Traceback' not in err, err[-3000:]
    assert not list(tmp_path.glob('reports/.*.partial-*')), 'no half-written report folder is left behind'
    assert not (tmp_path / 'reports' / 'multiscale').exists()              # the second report never finished
    for d in (tmp_path / 'reports').iterdir():                                # a finished one is whole
        if not d.name.startswith('.'): assert (d / 'meta.json').is_file(), d
