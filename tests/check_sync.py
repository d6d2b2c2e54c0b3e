"""Fail if seam_nb/ or the notebooks are not what `nbdev_export` and `nbdev_clean` make from nbs/.

Runs both tools and compares every file under seam_nb/ and nbs/ before and after. On a difference it lists the files,
leaves the regenerated versions in place (so `git diff` shows the fix) and exits 1: commit them.
"""
import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def snapshot() -> dict:
    files = [p for d in ('seam_nb', 'nbs') for p in (ROOT / d).rglob('*')
             if p.is_file() and '__pycache__' not in p.parts and '.ipynb_checkpoints' not in p.parts
             and p.name != '.last_checked']   # nbdev_clean's trust stamp (settings.ini jupyter_hooks = True)
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def main() -> int:
    before = snapshot()
    for tool in ('nbdev_export', 'nbdev_clean'):
        subprocess.run([str(BIN / tool)], cwd=ROOT, check=True)
    after = snapshot()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        print('out of date with nbs/ (regenerated now; review and commit):\n  ' + '\n  '.join(changed))
        return 1
    print(f'check_sync: seam_nb/ and nbs/ are in sync ({len(after)} files)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
