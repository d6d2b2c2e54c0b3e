"""Build a notebook from a percent-format script (`# %%` code cells, `# %% [markdown]` prose cells).

A drafting aid for writing notebooks in an editor; the notebooks in nbs/ are the source of truth and can be edited in
JupyterLab directly. Usage: python tools/py2nb.py draft.py nbs/01_data.synth.ipynb
A cell header may carry tags: `# %% tags=["parameters"]`.
"""
import hashlib
import json
import re
import sys

import nbformat


def convert(text: str) -> nbformat.NotebookNode:
    """Split `text` on `# %%` headers into notebook cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}}
    for chunk in re.split(r'^(?=# %%)', text, flags=re.M):
        if not chunk.startswith('# %%'):
            continue
        header, _, body = chunk.partition('\n')
        body = body.strip('\n')
        m = re.search(r'tags=(\[.*\])', header)
        meta = {'tags': json.loads(m.group(1))} if m else {}
        if '[markdown]' in header:
            body = '\n'.join(line[2:] if line.startswith('# ') else line.lstrip('#') for line in body.splitlines())
            nb.cells.append(nbformat.v4.new_markdown_cell(body, metadata=meta))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(body, metadata=meta))
    for i, cell in enumerate(nb.cells):   # stable ids: regenerating an unchanged cell gives no diff
        cell.id = hashlib.sha1(f'{i}:{cell.cell_type}:{cell.source}'.encode()).hexdigest()[:8]
    return nb


if __name__ == '__main__':
    src, dst = sys.argv[1:3]
    nbformat.write(convert(open(src, encoding='utf-8').read()), dst)
