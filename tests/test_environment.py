"""The set-up files agree: settings.ini is the single list of requirements; environment.yml and the Makefile follow it."""
import re
import shlex
import subprocess
from configparser import ConfigParser

import yaml

from conftest import ROOT


def settings():
    cfg = ConfigParser(delimiters=['='])
    cfg.read(ROOT / 'settings.ini')
    return cfg['DEFAULT']


def test_environment_yml_agrees_with_settings_ini():
    s = settings()
    env = yaml.safe_load((ROOT / 'environment.yml').read_text())
    deps = env['dependencies']
    assert f"python={s['min_python']}" in deps, 'environment.yml must pin the python of settings.ini min_python'
    assert 'pip' in deps
    pip = next(d['pip'] for d in deps if isinstance(d, dict))
    assert '-e .[dev]' in pip, 'environment.yml must install this package with its dev extras from settings.ini'
    declared = {re.split('[=<>!]', r)[0].lower() for r in shlex.split(s['requirements'] + ' ' + s['dev_requirements'])}
    for extra in pip:
        if extra != '-e .[dev]':
            assert re.split('[=<>!]', extra)[0].lower() in declared, f'{extra} in environment.yml is not in settings.ini'
    text = (ROOT / 'environment.yml').read_text()
    for req in shlex.split(s['nodeps_requirements']):
        assert f'pip install --no-deps {req}' in text, f'environment.yml must tell conda users to install {req} with --no-deps'


def test_pins_from_the_issue():
    reqs = shlex.split(settings()['requirements']) + shlex.split(settings()['dev_requirements'])
    for pin in ('torch==2.14.1', 'torchvision==0.29.1', 'nbdev==2.4.14', 'fastcore<2', 'execnb<0.2', 'ghapi<2'):
        assert pin in reqs, pin
    for name in ('pydensecrf2', 'papermill', 'jupyterlab', 'ipykernel', 'ipywidgets', 'seaborn', 'grad-cam', 'pytest', 'tqdm'):
        assert name in reqs, name


def test_nbdev_settings():
    s = settings()
    assert s['allowed_cell_metadata_keys'] == 'tags', 'nbdev_clean would strip the papermill parameters tag'
    assert {'slow', 'gpu'} <= set(s['tst_flags'].split())
    assert s['console_scripts'].startswith('seam-nb=')


def test_install_is_idempotent():
    "After `make test` installed the environment, the install target is up to date (a second run skips it)."
    r = subprocess.run(['make', '-q', 'install'], cwd=ROOT)
    assert r.returncode == 0, 'make install is not up to date right after installing: the stamp logic is broken'
