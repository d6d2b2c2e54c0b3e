"""Evaluation-side speed: the single-pass threshold sweep vs the per-threshold loop on the same cached CAMs,
multi-scale + flip CAM inference (images/s) and dense CRF (images/s, serial and with a process pool).

Runs on the synthetic dataset of a preset (generated if missing) with a SEAM model initialised from the committed
pretrained backbone (speed does not depend on the weights). Prints a table and writes benchmarks/results/eval_speed.json.

    .venv/bin/python benchmarks/eval_speed.py                  # cpu preset, 100 images
    .venv/bin/python benchmarks/eval_speed.py --images 300 --workers 2
"""
import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='cpu')
    ap.add_argument('--images', type=int, default=100)
    ap.add_argument('--workers', type=int, default=2, help='CRF process-pool size')
    ap.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'eval_speed.json'))
    a = ap.parse_args()
    from seam_nb.config import get_config
    from seam_nb.crf import crf_label, crf_labels
    from seam_nb.data.voc import open_split
    from seam_nb.evaluate import ThresholdSweep, cam_to_label, confusion, gt_mask, thresholds
    from seam_nb.infer import CamCache, infer_cam
    from seam_nb.runs import build_model
    import tempfile
    cfg = get_config(a.preset)
    ds = open_split(cfg, cfg.data.eval_split)
    ds.ids = ds.ids[:a.images]
    model, _ = build_model(cfg, ds.classes)
    model.eval()
    res = dict(preset=a.preset, images=len(ds.ids), image_size=list(ds.load_image(ds.ids[0]).shape[:2]),
               torch_threads=torch.get_num_threads(), cpu_count=os.cpu_count(), machine=platform.processor() or platform.machine(),
               scales=list(cfg.infer.scales), flip=cfg.infer.flip, workers=a.workers)
    items = [dict(image=ds.load_image(i), label=ds.multi_hot(i), gt=gt_mask(ds, i), id=i) for i in ds.ids]

    t = time.perf_counter()
    cams = [infer_cam(model, it['image'], it['label'], cfg.infer.scales, cfg.infer.flip, use_pcm=True) for it in items]
    res['multiscale_pcm_img_per_s'] = len(items) / (time.perf_counter() - t)
    t = time.perf_counter()
    for it in items: infer_cam(model, it['image'], it['label'], (1.0,), False, use_pcm=True)
    res['singlescale_pcm_img_per_s'] = len(items) / (time.perf_counter() - t)

    with tempfile.TemporaryDirectory() as d:   # the sweep reads CAMs back from the cache, as evaluate_cams does
        cache = CamCache(d)
        for it, cam in zip(items, cams): cache.put(it['id'], cam)
        cached = [cache.get(it['id'], ds.n_classes - 1) for it in items]
        ths = thresholds(cfg.eval)
        t = time.perf_counter()
        sweep = ThresholdSweep(ds.n_classes, ths)
        for cam, it in zip(cached, items): sweep.add(cam, it['gt'])
        fast = sweep.confusions()
        res['sweep_single_pass_s'] = time.perf_counter() - t
        t = time.perf_counter()
        slow = np.zeros_like(fast)
        for k, th in enumerate(ths):
            for cam, it in zip(cached, items): slow[k] += confusion(cam_to_label(cam, th), it['gt'], ds.n_classes)
        res['sweep_loop_s'] = time.perf_counter() - t
        assert (fast == slow).all(), 'single-pass sweep and per-threshold loop disagree'
        res['sweep_thresholds'] = len(ths)
        res['sweep_speedup'] = res['sweep_loop_s'] / res['sweep_single_pass_s']

        t = time.perf_counter()
        for cam, it in zip(cached, items): crf_label(it['image'], cam, cfg.eval.crf_alpha, cfg.eval.crf_iters)
        res['crf_serial_img_per_s'] = len(items) / (time.perf_counter() - t)
        t = time.perf_counter()
        list(crf_labels(ds, zip(ds.ids, cached), cache, cfg.eval.crf_alpha, cfg.eval.crf_iters, workers=a.workers, progress=False))
        res['crf_pool_img_per_s'] = len(items) / (time.perf_counter() - t)

    print(f"{res['images']} images of {res['image_size'][0]} px, torch threads {res['torch_threads']}, {res['cpu_count']} CPUs")
    print(f"threshold sweep ({res['sweep_thresholds']} thresholds): single pass {res['sweep_single_pass_s']:.2f} s, "
          f"per-threshold loop {res['sweep_loop_s']:.2f} s -> {res['sweep_speedup']:.1f}x faster (identical confusion matrices)")
    print(f"CAM inference (PCM): multi-scale {res['scales']} + flip {res['multiscale_pcm_img_per_s']:.1f} img/s; "
          f"single-scale {res['singlescale_pcm_img_per_s']:.1f} img/s")
    print(f"dense CRF ({cfg.eval.crf_iters} iterations): serial {res['crf_serial_img_per_s']:.1f} img/s, "
          f"pool of {a.workers} {res['crf_pool_img_per_s']:.1f} img/s")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items()}, indent=1) + '\n')
    print(f'-> {a.out}')


if __name__ == '__main__':
    main()
