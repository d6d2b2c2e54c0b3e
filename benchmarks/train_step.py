"""Training step time, throughput and peak memory, baseline (plain CAM) vs full SEAM, on whatever device is present,
in 1 or N processes (torchrun + DDP, exactly the training loop's path: `seam_nb.distributed`, `seam_nb.train.StepLosses`).

Shapes: `cpu` = ResNet-18s, batch 16, 128 px crops (the cpu preset); `cpu-os4` = the same at output stride 4 (a 32 x 32
CAM, the calibration's candidate designs); `paper` = ResNet-38, batch 8, 448 px crops (the
official setting; on a CPU it takes minutes per step and ~20+ GB, so it runs only with --shapes paper explicitly or on
CUDA). Each (shape, method, processes) runs in its own subprocess so that peak memory is its own. Prints one table.

With N processes the batch is the global batch, split evenly (as in training); on CPU the cores are shared out
(1 process: all threads; N processes: cores / N threads each), on GPUs each process drives its own GPU. Peak memory is
rank 0's (per process). `--amp bf16` or `fp16` runs the forward passes under autocast (the training `amp` option).

    .venv/bin/python benchmarks/train_step.py                 # cpu and cpu-os4 shapes (and paper if CUDA is available)
    .venv/bin/python benchmarks/train_step.py --shapes cpu --procs 1,2      # 1- vs 2-process throughput
    .venv/bin/python benchmarks/train_step.py --shapes paper --paper-batch 2 --steps 2 --amp off,bf16
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

SHAPES = {'cpu': dict(backbone='resnet18s', batch=16, size=128, er_scale=0.75),
          'cpu-os4': dict(backbone='resnet18s', batch=16, size=128, er_scale=0.75, output_stride=4),
          'paper': dict(backbone='resnet38', batch=8, size=448, er_scale=0.3)}


def one(shape, method, steps, batch, device, amp='off'):
    import dataclasses
    import torch
    from seam_nb.backbone import build_backbone
    from seam_nb.config import get_config
    from seam_nb.distributed import barrier, init_distributed, wrap_ddp
    from seam_nb.model import SEAM
    from seam_nb.train import StepLosses
    s = SHAPES[shape]
    d, dev = init_distributed(device)                  # one process: no group; under torchrun: this rank's place and device
    part = d.batch_slice(batch)
    torch.manual_seed(0)
    model = SEAM(build_backbone(s['backbone'], output_stride=s.get('output_stride', 8)), 21 if shape == 'paper' else 11).to(dev).train()
    model.backbone.freeze_bn()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3, momentum=0.9)
    x = torch.randn(batch, 3, s['size'], s['size'])[part].to(dev)
    y = torch.zeros(batch, model.cam_head.fc8.out_channels - 1)[part].to(dev); y[:, 0] = 1
    on = method != 'baseline'
    t = dataclasses.replace(get_config('cpu').train, er=on, pcm=on, ecr=on, er_scale=s['er_scale'])   # the loss terms train runs
    dtype = {'bf16': torch.bfloat16, 'fp16': torch.float16}.get(amp)
    step = wrap_ddp(StepLosses(model, t, dtype), d, dev, find_unused=not on)
    scaler = torch.amp.GradScaler(dev.type) if amp == 'fp16' else None
    if dev.type == 'cuda': torch.backends.cudnn.benchmark = True   # fixed shapes: let cuDNN pick its fastest kernels
    times = []
    for i in range(steps + 1):   # the first step warms up and is not timed
        if dev.type == 'cuda': torch.cuda.synchronize()
        barrier(d)
        t0 = time.perf_counter()
        loss = step(x, y)['loss']
        opt.zero_grad()
        if scaler: scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
        else: loss.backward(); opt.step()
        if dev.type == 'cuda': torch.cuda.synchronize()
        barrier(d)
        if i: times.append(time.perf_counter() - t0)
    peak = (torch.cuda.max_memory_allocated() / 2**30 if dev.type == 'cuda'
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)
    step_s = sum(times) / len(times)
    gpu = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else ''
    return dict(shape=shape, method=method, device=str(dev.type), gpu=gpu, processes=d.world, amp=amp, batch=batch, size=s['size'],
                backbone=s['backbone'], output_stride=s.get('output_stride', 8), step_s=round(step_s, 3),
                images_s=round(batch / step_s, 3), peak_gib=round(peak, 2),
                peak_kind='CUDA allocated' if dev.type == 'cuda' else 'process max RSS', threads=torch.get_num_threads())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--shapes', default='', help='comma list of cpu,cpu-os4,paper (default: cpu,cpu-os4, plus paper on CUDA)')
    p.add_argument('--steps', type=int, default=5); p.add_argument('--paper-batch', type=int, default=8)
    p.add_argument('--procs', default='1', help='comma list of process counts, e.g. 1,2 (N > 1: torchrun --nproc_per_node N)')
    p.add_argument('--amp', default='off', help='comma list of off,bf16,fp16')
    p.add_argument('--device', default='auto'); p.add_argument('--one', default='', help=argparse.SUPPRESS)
    p.add_argument('--out', default='', help='also write the rows as JSON here (e.g. benchmarks/results/train_step-cpu-procs.json)')
    a = p.parse_args()
    import torch
    device = ('cuda' if torch.cuda.is_available() else 'cpu') if a.device == 'auto' else a.device
    if a.one:
        shape, method = a.one.split(':')
        batch = a.paper_batch if shape == 'paper' else SHAPES[shape]['batch']
        row = one(shape, method, a.steps, batch, device, a.amp)
        if int(os.environ.get('RANK', 0)) == 0: print(json.dumps(row))
        return
    shapes = a.shapes.split(',') if a.shapes else ['cpu', 'cpu-os4'] + (['paper'] if device.startswith('cuda') else [])
    cores = len(os.sched_getaffinity(0))
    rows = []
    for shape in shapes:
        for nproc in map(int, a.procs.split(',')):
            for amp in a.amp.split(','):
                for method in ('baseline', 'seam'):
                    args = [__file__, '--one', f'{shape}:{method}', '--steps', str(a.steps), '--paper-batch', str(a.paper_batch),
                            '--device', device, '--amp', amp]
                    env = dict(os.environ)
                    if nproc > 1:
                        cmd = [os.path.join(os.path.dirname(sys.executable), 'torchrun'), '--standalone', '--nproc_per_node', str(nproc)] + args
                        if not device.startswith('cuda'): env['OMP_NUM_THREADS'] = str(max(1, cores // nproc))   # share the cores out
                    else:
                        cmd = [sys.executable] + args
                    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
                    if r.returncode: print(f'{shape} {method} x{nproc} {amp}: failed\n' + r.stderr[-3000:], file=sys.stderr); continue
                    rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
                    print(rows[-1], flush=True)
    print('\n| shape | method | device | processes | amp | backbone | output stride | global batch x px | step (s) | images/s | peak per process (GiB) |\n'
          '|---|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        dev = r['device'] + (f" ({r['gpu']})" if r['gpu'] else f", {r['threads']} threads each")
        print(f"| {r['shape']} | {r['method']} | {dev} | {r['processes']} | {r['amp']} | {r['backbone']} | {r['output_stride']} | "
              f"{r['batch']} x {r['size']} | {r['step_s']} | {r['images_s']} | {r['peak_gib']} ({r['peak_kind']}) |")
    if a.out:
        with open(a.out, 'w') as f: json.dump(dict(command=' '.join([os.path.relpath(__file__)] + sys.argv[1:]), cores=cores, rows=rows), f, indent=1)
        print(f'-> {a.out}')


if __name__ == '__main__':
    main()
