"""The calibration's new knobs: neutral values keep every committed name, and the new settings do what they say."""
import numpy as np
import torch

from seam_nb.config import get_config
from seam_nb.data.synth import load_silhouettes, render_scene, scene_rng
from seam_nb.checkpoints import cam_entries
from seam_nb.runs import read_manifest, run_id, run_id_parts


def test_committed_checkpoint_ids_survive_the_new_knobs():
    "Knobs added at their neutral values leave every committed run id (and its config part) unchanged."
    man = cam_entries()                   # the CAM networks' (the pipeline's networks have a `kind` and their own ids)
    assert man, 'checkpoints/manifest.json lists no checkpoint'
    for rid, e in man.items():
        cfg = get_config(e['preset'], seed=e['seed'], **e['overrides'])
        parts = e['id_parts']
        assert run_id_parts(cfg, parts['fingerprint'], parts['init'])['config'] == parts['config'], e['name']
        assert run_id(cfg, parts['fingerprint'], parts['init']) == rid, e['name']


def test_neutral_knobs_render_the_same_scenes_and_body_style_changes_them():
    cfg = get_config('smoke')
    shapes = load_silhouettes()
    same = get_config('smoke', body_style=0.0, body_distractors=0.0, body_min=0.3, bg_colour=0.0)
    body = get_config('smoke', body_style=1.0, body_distractors=0.5)
    for i in range(3):
        a = render_scene(cfg.synth, shapes, scene_rng(0, 'train', i))
        b = render_scene(same.synth, shapes, scene_rng(0, 'train', i))
        c = render_scene(body.synth, shapes, scene_rng(0, 'train', i))
        assert (a['image'] == b['image']).all() and (a['mask'] == b['mask']).all()
        assert not (a['image'] == c['image']).all()
        assert all('body' in inst for inst in c['instances']) and not any('body' in inst for inst in a['instances'])


def test_body_min_bounds_the_strength_and_bg_colour_redyes_the_background_keeping_its_pattern():
    from seam_nb.data.synth import context_background, recolour_background
    shapes = load_silhouettes()
    weak = get_config('smoke', body_style=1.0, body_distractors=0.5).synth
    strong = get_config('smoke', body_style=1.0, body_distractors=0.5, body_min=0.6).synth
    s_weak = [i['body'] for k in range(12) for i in render_scene(weak, shapes, scene_rng(0, 'train', k))['instances']]
    s_strong = [i['body'] for k in range(12) for i in render_scene(strong, shapes, scene_rng(0, 'train', k))['instances']]
    assert min(s_strong) >= 0.6 and min(s_weak) < 0.6, (min(s_weak), min(s_strong))
    rng = np.random.default_rng(0)
    for ctx in ('water', 'grass', 'snow'):
        bg = context_background(rng, ctx, 64)
        re = recolour_background(rng, bg)
        assert re.shape == bg.shape and re.dtype == np.float32 and 0 <= re.min() and re.max() <= 1
        lum_a, lum_b = bg.mean(-1).ravel(), re.mean(-1).ravel()
        assert np.corrcoef(lum_a, lum_b)[0, 1] > 0.9, ctx                              # the pattern survives
        assert np.abs(bg.mean((0, 1)) - re.mean((0, 1))).max() > 0.05   # the colour does not
    # about that fraction of the backgrounds is re-dyed: the context colour is gone from them
    cfg0, cfg1 = get_config('smoke').synth, get_config('smoke', bg_colour=1.0).synth
    diff = [not np.array_equal(render_scene(cfg0, shapes, scene_rng(0, 'train', k))['image'],
                               render_scene(cfg1, shapes, scene_rng(0, 'train', k))['image']) for k in range(6)]
    assert all(diff)


def test_body_hue_follows_the_class():
    "At full strength an object's mean hue sits near its class's hue centre (classes 25.5 hue steps apart)."
    from PIL import Image
    from seam_nb.data.synth import body_fill
    rng = np.random.default_rng(0)
    for c in (0, 3, 7):
        hues = []
        for _ in range(8):
            f = (body_fill(rng, c, 10, 32, 1.0) * 255).astype(np.uint8)
            hsv = np.asarray(Image.fromarray(f).convert('HSV'), np.float32)
            ang = hsv[..., 0] / 255 * 2 * np.pi
            hues.append(np.angle(np.exp(1j * ang).mean()) % (2 * np.pi) / (2 * np.pi) * 255)
        centre = 255 * c / 10
        err = np.abs((np.asarray(hues) - centre + 128) % 255 - 128)
        assert np.median(err) < 25, (c, hues)


def test_output_stride_4_doubles_the_cam_side():
    from seam_nb.runs import build_model
    cfg = get_config('smoke', output_stride=4, er=False, pcm=False, ecr=False)
    classes = ('background', *cfg.synth.classes)
    m8, _ = build_model(get_config('smoke', er=False, pcm=False, ecr=False), classes)
    m4, _ = build_model(cfg, classes)
    for (k, a), b in zip(m8.state_dict().items(), m4.state_dict().values()):   # the same pretrained weights
        assert torch.equal(a, b), k
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        assert m8.eval().cam_head(m8.backbone(x)['out']).shape[-2:] == (16, 16)
        assert m4.eval().cam_head(m4.backbone(x)['out']).shape[-2:] == (32, 32)


def test_recorded_rows_name_committed_baselines_of_their_design():
    """A design's recorded row points at a committed checkpoint of that design, so a reader can re-measure it; the frozen
    design's baseline is the `cpu` preset's zoo `baseline` and is stored under that name (`export_plan`: zoo names first)."""
    from seam_nb.calibration import DESIGNS, FROZEN
    man = read_manifest()
    for n, d in DESIGNS.items():
        if d.get('recorded'):
            rid = d['recorded']['run_id']
            assert rid in man and man[rid]['name'] == ('baseline' if n == FROZEN['design'] else f'design:{n}'), (n, rid)
