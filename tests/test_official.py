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


def test_paper_preset_has_the_official_training_details():
    """The `paper` preset as the official train_SEAM.py trains: ResNet-38 with conv1a, b2, b2_1, b2_2 frozen (not_training)
    and every BatchNorm frozen, the crop padded with the mean colour, batch 8, crop 448, rescale 448-768, ER scale 0.3,
    8 epochs of train_aug; PolyOptimizer's learning rates: backbone 1x, new layers 10x, poly 0.9 — its 2x / 20x bias groups
    are empty because no trainable layer has a bias."""
    from seam_nb.config import get_config
    from seam_nb.runs import build_model
    from seam_nb.train import make_optimizer, poly_lr, set_lr
    cfg = get_config('paper', weights='scratch')
    t = cfg.train
    assert (t.backbone, t.batch_size, t.crop_size, tuple(t.resize_long), t.er_scale, t.pad) == ('resnet38', 8, 448, (448, 768), 0.3, 'mean')
    assert t.max_steps == 10582 // 8 * 8   # 8 epochs of train_aug (10,582 images) at batch 8
    model, _ = build_model(cfg, ('background',) + tuple(f'c{i}' for i in range(20)))
    model.backbone.freeze(t.frozen); model.train(); model.backbone.freeze_bn()
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    for name in ('conv1a', 'b2', 'b2_1', 'b2_2'):
        assert all(f'backbone.{name}.' + n in frozen for n, _ in getattr(model.backbone, name).named_parameters())
    assert not any(n.startswith('backbone.b3.conv') for n in frozen)           # the next block trains
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    assert all(p.ndim == 4 for _, p in trainable), [n for n, p in trainable if p.ndim != 4][:3]   # conv weights only: no biases, BN frozen
    opt = make_optimizer(model, t)
    set_lr(opt, t, 1000)
    assert opt.param_groups[0]['lr'] == pytest.approx(poly_lr(0.01, 1000, t.max_steps, 0.9))
    assert opt.param_groups[1]['lr'] == pytest.approx(10 * opt.param_groups[0]['lr'])
    new = {id(p) for m in (model.cam_head, model.pcm_head) for p in m.parameters()}
    assert all(id(p) in new for p in opt.param_groups[1]['params']) and not any(id(p) in new for p in opt.param_groups[0]['params'])


def test_resnet38_imagenet_weights_from_mxnet_params_one_to_one(tmp_path, monkeypatch):
    """The original ImageNet ResNet-38 `.params` (MXNet names, `arg:`/`aux:`, with the 1000-class classifier) loads 1:1
    into our ResNet-38 — through a stand-in for `mxnet.nd.load` (mxnet itself is not installed; its absence is tested in
    03_backbone). Every backbone tensor of the official list must arrive, under the right name, unchanged."""
    import sys
    import types
    import numpy as np
    from seam_nb.backbone import ResNet38, read_state_dict_table
    bn = {'weight': 'gamma', 'bias': 'beta', 'running_mean': 'moving_mean', 'running_var': 'moving_var'}
    def mx_name(k):   # our name -> MXNet's (the inverse of backbone.mxnet_key, written out again here)
        pre = 'aux:' if k.endswith(('running_mean', 'running_var')) else 'arg:'
        if k == 'conv1a.weight': return pre + 'conv1a_weight'
        if k.startswith('bn7.'): return pre + 'bn7_' + bn[k.split('.')[1]]
        blk, layer, p = k.split('.')
        stage, _, n = blk[1:].partition('_')
        kind, branch = layer.split('_', 1)
        return pre + ('res' if kind == 'conv' else 'bn') + stage + ('b' + n if n else 'a') + f'_{branch}_' + (p if kind == 'conv' else bn[p])
    rng = np.random.default_rng(0)
    ours = {k: rng.standard_normal(s).astype(np.float32) for k, s in read_state_dict_table(
        ROOT / 'nbs' / 'reference' / 'seam_resnet38_state_dict.tsv').items() if not k.startswith(('fc8', 'f8_', 'f9'))}
    params = {mx_name(k): types.SimpleNamespace(asnumpy=lambda v=v: v) for k, v in ours.items()}
    params['arg:linear1000_weight'] = types.SimpleNamespace(asnumpy=lambda: np.zeros((1000, 4096), np.float32))
    monkeypatch.setitem(sys.modules, 'mxnet', types.SimpleNamespace(nd=types.SimpleNamespace(load=lambda p: params)))
    (tmp_path / 'ilsvrc-cls_rna-a1_cls1000_ep-0001.params').write_bytes(b'stand-in')
    net = ResNet38(str(tmp_path / 'ilsvrc-cls_rna-a1_cls1000_ep-0001.params'))
    sd = net.state_dict()
    assert set(ours) == {k for k in sd if not k.endswith('num_batches_tracked')}
    for k, v in ours.items(): assert torch.equal(sd[k], torch.from_numpy(v)), k
