"""Inference speed of the two costs of a PCM CAM: the PCM revision (whole (hw, hw) affinity, as under gradients, vs the
tiled symmetric sums `pcm.pcm` takes without gradients) and the backbone's forward pass (input in the default memory
format vs channels-last, as `infer.MultiScaleCAM` feeds it).

Random CAMs and θ features (the cpu preset's sizes: 11 channels, θ of 192; a two-view batch, a view and its mirror);
the backbone is the cpu preset's SEAM model initialised from its committed pretrained weights (speed does not depend
on the weights). Prints a table and writes benchmarks/results/pcm_speed.json.

    .venv/bin/python benchmarks/pcm_speed.py
    .venv/bin/python benchmarks/pcm_speed.py --repeats 10
"""
import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch


def best_of(fn, repeats: int) -> float:
    "The fastest of `repeats` calls of fn(), in seconds (after one warm-up call)."
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='cpu')
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'pcm_speed.json'))
    a = ap.parse_args()
    from seam_nb.config import get_config
    from seam_nb.pcm import pcm
    from seam_nb.runs import build_model
    cfg = get_config(a.preset)
    res = dict(preset=a.preset, torch_threads=torch.get_num_threads(), cpu_count=os.cpu_count(),
               machine=platform.processor() or platform.machine(), repeats=a.repeats, pcm=[], backbone=[])
    torch.manual_seed(0)
    print(f'{"PCM revision (2 views)":28s} {"whole matrix":>13s} {"tiled symmetric":>16s} {"speed-up":>9s} {"max rel. diff":>14s}')
    for side in (16, 32, 48, 64):
        cam, feats = torch.rand(2, 11, side, side), torch.randn(2, 192, side, side)
        cam_g = cam.clone().requires_grad_()
        whole = lambda: pcm(cam_g, feats).detach()   # a CAM that needs gradients: the whole (hw, hw) matrix
        def tiled():
            with torch.no_grad(): return pcm(cam, feats)
        t_whole, t_tiled = best_of(whole, a.repeats), best_of(tiled, a.repeats)
        ref = whole()
        diff = float((tiled() - ref).abs().max() / ref.abs().max())
        res['pcm'].append(dict(side=side, pixels=side * side, whole_s=t_whole, tiled_s=t_tiled, max_rel_diff=diff))
        print(f'{f"{side}x{side} ({side * side} px)":28s} {t_whole:12.3f}s {t_tiled:15.3f}s {t_whole / t_tiled:8.2f}x {diff:14.1e}')
    model, _ = build_model(cfg, ('background',) + tuple(cfg.synth.classes))
    model.eval()
    print(f'\n{"backbone forward (2 views)":28s} {"default":>13s} {"channels-last":>16s} {"speed-up":>9s} {"max abs. diff":>14s}')
    with torch.no_grad():
        for size in (64, 128, 192, 256):
            x = torch.randn(2, 3, size, size)
            xc = x.contiguous(memory_format=torch.channels_last)
            t_def, t_cl = best_of(lambda: model.backbone(x), a.repeats), best_of(lambda: model.backbone(xc), a.repeats)
            diff = float((model.backbone(x)['out'] - model.backbone(xc)['out']).abs().max())
            res['backbone'].append(dict(size=size, default_s=t_def, channels_last_s=t_cl, max_abs_diff=diff))
            print(f'{f"{size} px":28s} {t_def:12.3f}s {t_cl:15.3f}s {t_def / t_cl:8.2f}x {diff:14.1e}')
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(f'\nwritten: {a.out}')


if __name__ == '__main__':
    main()
