"""Saving a notebook from JupyterLab keeps it clean: the repo-local server configuration (tools/jupyter, read through
JUPYTER_CONFIG_PATH by `make lab`) runs nbdev's cleaner before each save, so `make test`'s sync check stays green.
The save goes through the Jupyter server's contents API, the same request JupyterLab sends."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # loopback: never through an http_proxy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def save_through_server(tmp_path: Path, name: str, config_path: str | None) -> bytes:
    "Start a Jupyter server on a copy of the project, save notebook `name` with the metadata Lab adds, return its bytes."
    port, log = free_port(), open(tmp_path / f'server-{name}.log', 'wb')
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(tmp_path / 'config'), 'JUPYTER_RUNTIME_DIR': str(tmp_path / 'runtime'),
           'JUPYTER_DATA_DIR': str(tmp_path / 'data')}
    env.pop('JUPYTER_CONFIG_PATH', None)
    if config_path: env['JUPYTER_CONFIG_PATH'] = config_path
    server = subprocess.Popen([str(BIN / 'jupyter'), 'server', '--no-browser', '--allow-root', '--ServerApp.ip=127.0.0.1',
                               f'--ServerApp.port={port}', '--IdentityProvider.token=', '--ServerApp.disable_check_xsrf=True',
                               f'--ServerApp.root_dir={tmp_path}'],
                              env=env, stdout=log, stderr=log)
    url = f'http://127.0.0.1:{port}/api/contents/nbs/{name}'
    try:
        deadline = time.time() + 90
        while True:
            try:
                with LOCAL.open(url) as r: model = json.load(r)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise AssertionError((tmp_path / f'server-{name}.log').read_text()[-2000:])
                time.sleep(0.5)
        nb = model['content']
        code = [c for c in nb['cells'] if c['cell_type'] == 'code']
        for k, c in enumerate(code): c['execution_count'] = k + 1; c['metadata'].update(scrolled=True, execution={})
        nb['metadata'].update(kernelspec=dict(name='python3', display_name='Python 3 (ipykernel)', language='python'),
                              language_info=dict(name='python', version='3.11.7'))
        body = json.dumps(dict(type='notebook', format='json', content=nb)).encode()
        req = urllib.request.Request(url, data=body, method='PUT', headers={'Content-Type': 'application/json'})
        with LOCAL.open(req) as r: assert r.status in (200, 201)
        return (tmp_path / 'nbs' / name).read_bytes()
    finally:
        server.terminate(); server.wait(30); log.close()


def test_saving_from_jupyter_keeps_notebooks_clean(tmp_path):
    shutil.copy(ROOT / 'settings.ini', tmp_path)
    (tmp_path / 'nbs').mkdir()
    for name in ('04_cam.ipynb', '05_er.ipynb'): shutil.copy(ROOT / 'nbs' / name, tmp_path / 'nbs' / name)
    clean = (ROOT / 'nbs' / '04_cam.ipynb').read_bytes()
    assert save_through_server(tmp_path, '04_cam.ipynb', str(ROOT / 'tools' / 'jupyter')) == clean
    # control: without the repo's configuration the same save leaves Lab's metadata in the file (what broke `make test`)
    assert save_through_server(tmp_path, '05_er.ipynb', None) != (ROOT / 'nbs' / '05_er.ipynb').read_bytes()
