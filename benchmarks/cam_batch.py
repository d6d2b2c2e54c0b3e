"""CAM inference one image per forward pass vs `cam_batch` images per pass (`InferConfig.cam_batch`), end to end through
`run_cams` (the path every report takes: views, model, resize, normalisation, cache writes).

Each measurement runs in its own process (timings of one configuration vary by a third between processes on a shared
VM, and a process that switches kernels pays for it), rounds interleaved, every process on a fresh CAM cache of a copy
of the committed model's run. Two workloads, as the reports run them: single scale with the two control variants
(`also`: raw CAM and image affinity, the ablation's pass) and multi-scale + flip (the multiscale report's). Prints
ms per image, cores busy, and the largest difference between the cached CAMs of batch 1 and the others; writes
benchmarks/results/cam_batch.json.

    .venv/bin/python benchmarks/cam_batch.py                         # seam seed 0, cpu preset, 96 images, batches 1 and 8
    .venv/bin/python benchmarks/cam_batch.py --batches 1,4,8,16 --rounds 3 --images 300
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOADS = ('single', 'multi')


def specs(cfg, workload):
    from seam_nb.infer import CamSpec
    if workload == 'single':
        return CamSpec.of(cfg, scales=(1.0,), flip=False), (CamSpec.of(cfg, scales=(1.0,), flip=False, use_pcm=False),
                                                            CamSpec.of(cfg, scales=(1.0,), flip=False, affinity='image'))
    return CamSpec.of(cfg), ()


def child(a):
    "One measurement: run_cams over the first `images` images with `cam_batch` images per pass; prints one JSON line."
    import dataclasses
    from seam_nb.cams import run_cams
    from seam_nb.checkpoints import model_config
    from seam_nb.config import get_config
    cfg = model_config(get_config(a.preset, seed=a.seed), a.model, a.seed)
    cfg = dataclasses.replace(cfg, infer=dataclasses.replace(cfg.infer, cam_batch=a.child_batch))
    run = Path(a.child_dir) / 'run'
    spec, also = specs(cfg, a.workload)
    t, c = time.perf_counter(), time.process_time()
    ds, cache, cams = run_cams(cfg, run, spec, progress=False, max_images=a.images, also=also)
    n = sum(1 for _ in cams)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    print(json.dumps(dict(batch=a.child_batch, images=n, ms_per_image=1000 * wall / n, cores=cpu / wall, cache=str(cache.dir))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='cpu')
    ap.add_argument('--model', default='seam', help='zoo model with a committed checkpoint')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--images', type=int, default=96)
    ap.add_argument('--batches', default='1,8', help='comma-separated cam_batch values; the first is the reference')
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--workloads', default=','.join(WORKLOADS))
    ap.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'cam_batch.json'))
    ap.add_argument('--child-batch', type=int, help=argparse.SUPPRESS)
    ap.add_argument('--child-dir', help=argparse.SUPPRESS)
    ap.add_argument('--workload', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child_batch: return child(a)
    import numpy as np
    import torch
    from seam_nb.checkpoints import ensure_run, model_config
    from seam_nb.config import get_config
    from seam_nb.infer import read_cam_file
    src = ensure_run(model_config(get_config(a.preset, seed=a.seed), a.model, a.seed), a.model, progress=False, train_missing=False)
    batches = [int(b) for b in a.batches.split(',')]
    res = dict(preset=a.preset, model=a.model, seed=a.seed, images=a.images, rounds=a.rounds, cpu_count=os.cpu_count(),
               torch_threads=torch.get_num_threads(), workloads={})
    for w in a.workloads.split(','):
        times, diff = {b: [] for b in batches}, {}
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(a.rounds):
                for b in batches:
                    d = Path(tmp) / f'b{b}-r{r}'
                    shutil.copytree(src, d / 'run', ignore=shutil.ignore_patterns('cams', 'crf*'))   # a fresh CAM cache
                    out = subprocess.run([sys.executable, __file__, '--preset', a.preset, '--model', a.model, '--seed', str(a.seed),
                                          '--images', str(a.images), '--workload', w, '--child-batch', str(b), '--child-dir', str(d)],
                                         capture_output=True, text=True, env={**os.environ, 'SEAM_NB_PROGRESS': '0'})
                    if out.returncode: sys.exit(f'measurement failed (batch {b}, {w}):\n{out.stderr[-2000:]}')
                    m = json.loads(out.stdout.strip().splitlines()[-1])
                    times[b].append(m)
                    print(f"{w:6s} round {r + 1} batch {b:2d}: {m['ms_per_image']:7.1f} ms/image, {m['cores']:.2f} cores", flush=True)
            ref = {f.stem: read_cam_file(f)[2] for f in Path(times[batches[0]][0]['cache']).glob('*.npz')}
            for b in batches[1:]:
                got = {f.stem: read_cam_file(f)[2] for f in Path(times[b][0]['cache']).glob('*.npz')}
                assert got.keys() == ref.keys(), f'batch {b} cached other images'
                diff[b] = float(max(np.abs(got[k] - ref[k]).max() for k in ref))
        res['workloads'][w] = {str(b): dict(ms_per_image=[round(m['ms_per_image'], 1) for m in times[b]],
                                            cores=[round(m['cores'], 2) for m in times[b]],
                                            max_abs_diff_vs_first=diff.get(b, 0.0)) for b in batches}
    print(f"\n{a.model} seed {a.seed}, {a.preset} preset, {a.images} images, {res['cpu_count']} CPUs; median ms per image over "
          f"{a.rounds} rounds (one process each)")
    for w, per in res['workloads'].items():
        base = float(np.median(per[str(batches[0])]['ms_per_image']))
        for b, v in per.items():
            med = float(np.median(v['ms_per_image']))
            print(f"  {w:6s} cam_batch {b:>2s}: {med:7.1f} ms/image ({base / med:.2f}x), cores {np.median(v['cores']):.2f}, "
                  f"max |CAM - batch {batches[0]}| {v['max_abs_diff_vs_first']:.1e}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
    print(f'-> {a.out}')


if __name__ == '__main__':
    main()
