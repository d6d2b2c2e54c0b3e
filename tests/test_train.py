"""Training runs are resumable: a run killed with SIGKILL mid-way and resumed ends with the same weights as an uninterrupted run."""
import signal
import subprocess

import pytest
import torch


def train_cmd(cli, data, out, *extra):
    return [cli, 'train', '--preset', 'smoke', '--weights', 'scratch', '--device', 'cpu', '--root', str(data),
            '--max-steps', '4', '--ckpt-every', '2', '--out', str(out), *extra]


def only_run(folder):
    runs = [p for p in folder.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


@pytest.mark.parametrize('amp', ['off', 'fp16'])   # fp16: the gradient scaler's state is checkpointed and restored too
def test_killed_run_resumes_to_identical_weights(seam_nb_cli, tmp_path, amp):
    data, extra = tmp_path / 'data', ('--amp', amp)
    r = subprocess.run(train_cmd(seam_nb_cli, data, tmp_path / 'a', *extra), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    a = only_run(tmp_path / 'a')

    r = subprocess.run(train_cmd(seam_nb_cli, data, tmp_path / 'b', *extra, '--kill-after', '3'), capture_output=True, text=True)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    b = only_run(tmp_path / 'b')
    assert b.name == a.name, 'same configuration, same run id'
    assert not (b / 'done.json').exists() and (b / 'ckpt.pt').is_file()
    ckpt = torch.load(b / 'ckpt.pt', weights_only=False)
    assert ckpt['step'] == 2, 'last checkpoint before the kill'
    assert ('scaler' in ckpt) == (amp == 'fp16')

    r = subprocess.run(train_cmd(seam_nb_cli, data, tmp_path / 'b', *extra), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert 'resuming run' in r.stdout + r.stderr
    wa, wb = torch.load(a / 'model.pt'), torch.load(b / 'model.pt')
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), f'{k} differs after resume'
    assert (a / 'metrics.csv').read_text() == (b / 'metrics.csv').read_text()


def test_finished_run_is_reused(seam_nb_cli, tmp_path):
    cmd = train_cmd(seam_nb_cli, tmp_path / 'data', tmp_path / 'runs', '--max-steps', '2')
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    run = only_run(tmp_path / 'runs')
    before = (run / 'model.pt').stat().st_mtime_ns
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    assert (run / 'model.pt').stat().st_mtime_ns == before, 'a finished run must not be retrained'


def test_missing_pretrained_weights_is_a_clear_error(seam_nb_cli, tmp_path):
    r = subprocess.run([seam_nb_cli, 'train', '--preset', 'smoke', '--root', str(tmp_path / 'data'), '--weights',
                        str(tmp_path / 'nope.pt'), '--out', str(tmp_path / 'runs')], capture_output=True, text=True)
    assert r.returncode == 2 and 'nope.pt' in r.stderr and 'make pretrain' in r.stderr
