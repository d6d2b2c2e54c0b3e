"""Training step time and peak memory, baseline (plain CAM) vs full SEAM, on whatever device is present.

Shapes: `cpu` = ResNet-18s, batch 16, 128 px crops (the cpu preset); `cpu-os4` = the same at output stride 4 (a 32 x 32
CAM, the calibration's candidate designs); `paper` = ResNet-38, batch 8, 448 px crops (the
official setting; on a CPU it takes minutes per step and ~20+ GB, so it runs only with --shapes paper explicitly or on
CUDA). Each (shape, method) runs in its own subprocess so that peak memory is its own. Prints one table.

    .venv/bin/python benchmarks/train_step.py                 # cpu and cpu-os4 shapes (and paper if CUDA is available)
    .venv/bin/python benchmarks/train_step.py --shapes paper --paper-batch 2 --steps 2
"""
import argparse
import json
import resource
import subprocess
import sys
import time

SHAPES = {'cpu': dict(backbone='resnet18s', batch=16, size=128, er_scale=0.75),
          'cpu-os4': dict(backbone='resnet18s', batch=16, size=128, er_scale=0.75, output_stride=4),
          'paper': dict(backbone='resnet38', batch=8, size=448, er_scale=0.3)}


def one(shape, method, steps, batch, device):
    import torch
    from seam_nb.backbone import build_backbone
    from seam_nb.model import SEAM, seam_losses
    s = SHAPES[shape]
    dev = torch.device(device)
    torch.manual_seed(0)
    model = SEAM(build_backbone(s['backbone'], output_stride=s.get('output_stride', 8)), 21 if shape == 'paper' else 11).to(dev).train()
    model.backbone.freeze_bn()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3, momentum=0.9)
    x = torch.randn(batch, 3, s['size'], s['size'], device=dev)
    y = torch.zeros(batch, model.cam_head.fc8.out_channels - 1, device=dev); y[:, 0] = 1
    flags = dict(er=False, pcm=False, ecr=False) if method == 'baseline' else dict(er=True, pcm=True, ecr=True)
    times = []
    for i in range(steps + 1):   # the first step warms up and is not timed
        if dev.type == 'cuda': torch.cuda.synchronize()
        t = time.perf_counter()
        loss = seam_losses(model, x, y, er_scale=s['er_scale'], **flags)['loss']
        opt.zero_grad(); loss.backward(); opt.step()
        if dev.type == 'cuda': torch.cuda.synchronize()
        if i: times.append(time.perf_counter() - t)
    peak = (torch.cuda.max_memory_allocated() / 2**30 if dev.type == 'cuda'
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)
    return dict(shape=shape, method=method, device=str(dev), batch=batch, size=s['size'], backbone=s['backbone'], output_stride=s.get('output_stride', 8),
                step_s=round(sum(times) / len(times), 3), peak_gib=round(peak, 2),
                peak_kind='CUDA allocated' if dev.type == 'cuda' else 'process max RSS', threads=torch.get_num_threads())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--shapes', default='', help='comma list of cpu,cpu-os4,paper (default: cpu,cpu-os4, plus paper on CUDA)')
    p.add_argument('--steps', type=int, default=5); p.add_argument('--paper-batch', type=int, default=8)
    p.add_argument('--device', default='auto'); p.add_argument('--one', default='', help=argparse.SUPPRESS)
    a = p.parse_args()
    import torch
    device = ('cuda' if torch.cuda.is_available() else 'cpu') if a.device == 'auto' else a.device
    if a.one:
        shape, method = a.one.split(':')
        batch = a.paper_batch if shape == 'paper' else SHAPES[shape]['batch']
        print(json.dumps(one(shape, method, a.steps, batch, device))); return
    shapes = a.shapes.split(',') if a.shapes else ['cpu', 'cpu-os4'] + (['paper'] if device.startswith('cuda') else [])
    rows = []
    for shape in shapes:
        for method in ('baseline', 'seam'):
            r = subprocess.run([sys.executable, __file__, '--one', f'{shape}:{method}', '--steps', str(a.steps),
                                '--paper-batch', str(a.paper_batch), '--device', device], capture_output=True, text=True)
            if r.returncode: print(r.stderr, file=sys.stderr); continue
            rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    print('\n| shape | method | device | backbone | output stride | batch x px | step (s) | peak (GiB) |\n|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['shape']} | {r['method']} | {r['device']} | {r['backbone']} | {r['output_stride']} | {r['batch']} x {r['size']} | {r['step_s']} | {r['peak_gib']} ({r['peak_kind']}) |")


if __name__ == '__main__':
    main()
