"""The authors' released SEAM checkpoint, without the file: a synthetic state dict with every official tensor name and
shape (../shared/reference/seam_resnet38_state_dict.tsv, copied to nbs/reference/) loads 1:1 in one call
(`model.load_official_seam`), and the model runs at the paper's crop, 448 x 448."""
from pathlib import Path

import pytest
import torch

from seam_nb.backbone import WeightsError, read_state_dict_table
from seam_nb.model import load_official_seam, official_key

ROOT = Path(__file__).resolve().parent.parent


def synthetic_official(path: Path) -> dict:
    g = torch.Generator().manual_seed(0)
    sd = {}
    for name, shape in read_state_dict_table(ROOT / 'nbs' / 'reference' / 'seam_resnet38_state_dict.tsv').items():
        t = torch.randn(shape, generator=g) * 0.02
        sd[name] = t.abs() + 0.5 if name.endswith('running_var') else t   # a variance is positive
    torch.save(sd, path)   # no num_batches_tracked: the official file (older PyTorch) has none
    return sd


def test_load_official_seam_one_to_one_and_forward_at_448(tmp_path):
    sd = synthetic_official(tmp_path / 'resnet38_SEAM.pth')
    model = load_official_seam(tmp_path / 'resnet38_SEAM.pth')
    assert not model.training
    own = model.state_dict()
    assert {official_key(k) for k in sd} == {k for k in own if not k.endswith('num_batches_tracked')}   # 1:1
    for k, v in sd.items(): assert torch.equal(own[official_key(k)], v), k
    with torch.no_grad():
        cam, cam_rv = model(torch.randn(1, 3, 448, 448, generator=torch.Generator().manual_seed(1)))
    assert cam.shape == cam_rv.shape == (1, 21, 448, 448)
    assert torch.isfinite(cam).all() and torch.isfinite(cam_rv).all()


def test_load_official_seam_refuses_other_files(tmp_path):
    torch.save({'conv1.weight': torch.zeros(1)}, tmp_path / 'other.pth')
    with pytest.raises(WeightsError, match='not the official SEAM checkpoint'): load_official_seam(tmp_path / 'other.pth')
    with pytest.raises(WeightsError, match='not found'): load_official_seam(tmp_path / 'missing.pth')
