# Repo-local Jupyter server configuration, read by `make lab` through JUPYTER_CONFIG_PATH (nothing is written to
# ~/.jupyter). Saving a notebook from JupyterLab runs nbdev's cleaner first (settings.ini: jupyter_hooks = True), so a
# saved notebook is byte-identical to what `nbdev_clean` makes and `make test` (tests/check_sync.py) stays green.
# The same hook that `nbdev_install_hooks` would add to the user's own configuration.
def nbdev_clean_jupyter(**kwargs):
    try: from nbdev.clean import clean_jupyter
    except ModuleNotFoundError: return
    clean_jupyter(**kwargs)

import warnings   # JupyterLab applies server configuration twice (server, then its extension): the same hook, no news
warnings.filterwarnings('ignore', message='Overriding existing pre_save_hook')

c.ContentsManager.pre_save_hook = nbdev_clean_jupyter  # noqa: F821 (`c` is the config object Jupyter provides)
