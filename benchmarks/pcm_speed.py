"""Inference speed of PCM's revision: the whole (hw, hw) affinity (the path under gradients), column blocks of it (one
bmm per block of target pixels: `pcm.pcm` before 2026-11-28) and the tiled symmetric sums `pcm.pcm` takes without
gradients now (each off-diagonal tile once for both halves).

Random CAMs and θ features at the cpu preset's sizes (11 channels, θ of 192; a two-view batch, a view and its mirror;
side 32 = a 128 px view at output stride 4, 64 = the same at test scale 2). Prints a table and writes
benchmarks/results/pcm_speed.json.

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


def pcm_columns(cam: torch.Tensor, feats: torch.Tensor, eps: float = 1e-5, block: int = 512) -> torch.Tensor:
    "The previous no-gradient path, kept here as the reference: the ReLU cosine `block` target columns at a time."
    n, c, h, w = cam.shape
    f = feats.flatten(2); f = f / (f.norm(dim=1, keepdim=True) + eps)
    ft, cf, out = f.transpose(1, 2).contiguous(), cam.flatten(2), cam.new_empty(n, c, h * w)
    for j in range(0, h * w, block):
        a = torch.bmm(ft, f[:, :, j:j + block]).relu_()
        out[:, :, j:j + block] = torch.bmm(cf, a) / (a.sum(1, keepdim=True) + eps)
    return out.view(n, c, h, w)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'pcm_speed.json'))
    a = ap.parse_args()
    from seam_nb.pcm import pcm
    res = dict(torch_threads=torch.get_num_threads(), cpu_count=os.cpu_count(),
               machine=platform.processor() or platform.machine(), repeats=a.repeats, pcm=[])
    torch.manual_seed(0)
    print(f'{"PCM revision (2 views)":22s} {"whole":>8s} {"columns":>8s} {"tiled symmetric":>16s} {"vs columns":>11s} {"max rel. diff":>14s}')
    for side in (16, 32, 48, 64):
        cam, feats = torch.rand(2, 11, side, side), torch.randn(2, 192, side, side)
        cam_g = cam.clone().requires_grad_()
        whole = lambda: pcm(cam_g, feats).detach()   # a CAM that needs gradients: the whole (hw, hw) matrix
        def tiled():
            with torch.no_grad(): return pcm(cam, feats)
        def columns():
            with torch.no_grad(): return pcm_columns(cam, feats)
        t_whole, t_cols, t_tiled = best_of(whole, a.repeats), best_of(columns, a.repeats), best_of(tiled, a.repeats)
        ref = whole()
        diff = float((tiled() - ref).abs().max() / ref.abs().max())
        res['pcm'].append(dict(side=side, pixels=side * side, whole_s=t_whole, columns_s=t_cols, tiled_s=t_tiled, max_rel_diff=diff))
        print(f'{f"{side}x{side} ({side * side} px)":22s} {t_whole:7.3f}s {t_cols:7.3f}s {t_tiled:15.3f}s {t_cols / t_tiled:10.2f}x {diff:14.1e}')
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(f'\nwritten: {a.out}')


if __name__ == '__main__':
    main()
