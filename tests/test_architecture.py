"""Data flows one way through the package: no import cycle among seam_nb modules, lazy (function-level) imports included,
and every import points upstream in the documented order config/paths -> data -> backbone + method -> model -> runs -> distributed ->
train -> infer -> evaluate -> cams -> refinements (crf, affinity, random_walk, segment) -> checkpoints -> reports -> cli."""
import ast
from pathlib import Path

from conftest import ROOT

PKG = ROOT / 'seam_nb'

# The stages in data-flow order. A module may import only modules listed before it.
ORDER = ['config', 'paths', 'data.synth', 'data.voc', 'backbone', 'pretrain', 'cam', 'er', 'pcm', 'ecr', 'model', 'runs', 'distributed',
         'train', 'infer', 'gradcam', 'evaluate', 'cams', 'crf', 'affinity', 'random_walk', 'segment', 'equivariance', 'checkpoints', 'calibration', 'explorer', 'reports', 'cli', '__main__']


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG).with_suffix('')
    return '.'.join(p for p in rel.parts if p != '__init__') or '__init__'


def seam_imports(path: Path) -> set:
    "Every seam_nb module that `path` imports, at any depth of the file (lazy imports inside functions included)."
    mod = module_name(path)
    package = mod.split('.')[:-1]                      # the package a relative import is resolved against
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name[len('seam_nb.'):] for a in node.names if a.name.startswith('seam_nb.')}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                target = '.'.join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith('seam_nb'):
                target = node.module[len('seam_nb.'):] if node.module != 'seam_nb' else ''
            else:
                continue
            if target in ('', 'data'):                   # `from seam_nb import x` / `from seam_nb.data import synth`
                out |= {f'{target}.{a.name}'.lstrip('.') for a in node.names}
            else:
                out.add(target)
    return {m for m in out if m in ORDER and m != mod}   # crf imports its own worker function by name, for the process pool


def graph() -> dict:
    files = [p for p in PKG.rglob('*.py') if p.name not in ('_modidx.py', '__init__.py')]
    return {module_name(p): seam_imports(p) for p in files}


def test_every_module_has_a_place_in_the_order():
    assert set(graph()) == set(ORDER), f'modules missing from ORDER or stale: {set(graph()) ^ set(ORDER)}'


def test_imports_point_upstream_only():
    bad = [f'{m} imports {d}' for m, deps in graph().items() for d in deps if ORDER.index(d) >= ORDER.index(m)]
    assert not bad, 'imports against the data flow: ' + '; '.join(sorted(bad))


def test_no_import_cycle():
    g = graph()
    state = {}
    def visit(m, stack):
        state[m] = 'open'
        for d in g.get(m, ()):
            if state.get(d) == 'open': raise AssertionError('import cycle: ' + ' -> '.join(stack + [m, d]))
            if d not in state: visit(d, stack + [m])
        state[m] = 'done'
    for m in g:
        if m not in state: visit(m, [])


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    "The checker itself: a lazy relative import inside a function is found (so a cycle hidden that way would fail)."
    f = PKG / 'evaluate.py'
    src = f.read_text()
    assert 'def ' in src
    probe = PKG / 'data' / 'voc.py'
    assert 'synth' in seam_imports(probe) or 'paths' in seam_imports(probe)
    fake = tmp_path / 'x.py'
    fake.write_text('def f():\n    from .train import train\n    from seam_nb.cams import run_cams\n')
    # resolve as if it were seam_nb/evaluate.py
    orig = module_name
    try:
        globals()['module_name'] = lambda p: 'evaluate'
        assert seam_imports(fake) == {'train', 'cams'}
    finally:
        globals()['module_name'] = orig
