"""Learnability probe of the synthetic dataset: how far does a small CNN trained from scratch get on 2 CPU cores?

Not part of the method (the method notebooks fine-tune a pretrained backbone); this measures the *data*: whether the
classes can be learned at all within minutes, and how the generator's knobs (marks, context bias) change that.
Prints a table of (step, seconds, train loss, val micro-F1, val mAP) and writes it as JSON. `val_f1_noctx` scores a
second val set drawn with context_bias=0: a gap between the two means the network leans on the background context.

    .venv/bin/python benchmarks/learnability.py --steps 500 --size 96
    .venv/bin/python benchmarks/learnability.py --mark-prob 0      # shape parts only
    .venv/bin/python benchmarks/learnability.py --context-bias 0.9 # strong context shortcut
"""
import argparse
import dataclasses
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from seam_nb.config import get_config
from seam_nb.data.synth import load_silhouettes, render_scene, scene_rng


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.sc = None if (cin == cout and stride == 1) else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return F.relu(y + (x if self.sc is None else self.sc(x)))


def small_cnn(n_classes, width=32):
    "7 residual blocks, output stride 8, GAP + linear: the size of network a CPU can train in minutes."
    w = width
    return nn.Sequential(nn.Conv2d(3, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                         Block(w, w, 2), Block(w, 2 * w, 2), Block(2 * w, 2 * w, 1), Block(2 * w, 4 * w, 2),
                         Block(4 * w, 4 * w, 1), Block(4 * w, 4 * w, 1), Block(4 * w, 4 * w, 1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, n_classes))


def batch(scfg, shapes, seed, split, indices):
    xs, ys = [], []
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    for i in indices:
        sc = render_scene(scfg, shapes, scene_rng(seed, split, int(i)), split)
        xs.append(((sc['image'] / 255.0 - mean) / std).transpose(2, 0, 1))
        y = np.zeros(len(scfg.classes), np.float32); y[np.asarray(sc['labels']) - 1] = 1; ys.append(y)
    return torch.tensor(np.stack(xs), dtype=torch.float32), torch.tensor(np.stack(ys))


def average_precision(scores, targets):
    aps = []
    for c in range(targets.shape[1]):
        order = np.argsort(-scores[:, c]); t = targets[order, c]
        if t.sum() == 0: continue
        prec = np.cumsum(t) / np.arange(1, len(t) + 1)
        aps.append(float((prec * t).sum() / t.sum()))
    return float(np.mean(aps))


def evaluate(model, x, y):
    "(micro-F1 at logit 0, mAP) of a model on a fixed set."
    with torch.no_grad(): s = torch.cat([model(x[i:i + 100]) for i in range(0, len(x), 100)]).numpy()
    pred, t = s > 0, y.numpy() > 0.5
    return float(2 * (pred & t).sum() / max(1, pred.sum() + t.sum())), average_precision(s, t.astype(float))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--preset', default='cpu'); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--size', type=int, default=96); p.add_argument('--steps', type=int, default=500)
    p.add_argument('--batch', type=int, default=32); p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--eval-every', type=int, default=100); p.add_argument('--n-val', type=int, default=300)
    p.add_argument('--mark-prob', type=float); p.add_argument('--context-bias', type=float)
    p.add_argument('--threads', type=int, default=2); p.add_argument('--out', default='')
    a = p.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(a.seed)
    cfg = get_config(a.preset, seed=a.seed, img_size=a.size, mark_prob=a.mark_prob, context_bias=a.context_bias)
    scfg, shapes = cfg.synth, load_silhouettes()
    xv, yv = batch(scfg, shapes, a.seed, 'val', range(a.n_val))
    xn, yn = batch(dataclasses.replace(scfg, context_bias=0.0), shapes, a.seed, 'val', range(a.n_val))
    model = small_cnn(len(scfg.classes))
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.steps, pct_start=0.15)
    rows, t0, losses = [], time.perf_counter(), []
    print(f'probe: {scfg.img_size}px, mark_prob={scfg.mark_prob}, context_bias={scfg.context_bias}, '
          f'{a.steps} steps x {a.batch} fresh scenes, {a.threads} threads')
    for step in range(1, a.steps + 1):
        x, y = batch(scfg, shapes, a.seed + 1000, 'stream', range((step - 1) * a.batch, step * a.batch))
        model.train(); loss = F.multilabel_soft_margin_loss(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step(); sched.step(); losses.append(loss.item())
        if step % a.eval_every == 0 or step == a.steps:
            model.eval()
            (f1, ap), (f1n, _) = evaluate(model, xv, yv), evaluate(model, xn, yn)
            row = dict(step=step, seconds=round(time.perf_counter() - t0, 1), train_loss=round(float(np.mean(losses[-a.eval_every:])), 4),
                       val_f1=round(f1, 4), val_map=round(ap, 4), val_f1_noctx=round(f1n, 4))
            rows.append(row); print(row, flush=True)
    res = dict(args=vars(a), synth=dataclasses.asdict(scfg), curve=rows)
    if a.out: open(a.out, 'w').write(json.dumps(res, indent=1))


if __name__ == '__main__':
    main()
