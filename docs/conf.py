"""Sphinx configuration of the sklearn-gabor documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html``
(after ``pip install -e ".[docs]"``), then check the result with
``python docs/check_built_html.py docs/_build/html``. Nothing is fetched from
the network, neither by the build (no intersphinx) nor by the built pages:
MathJax comes from the ``sphinx-mathjax-offline`` package, which copies
MathJax 3 into ``_static/mathjax/`` and points ``mathjax_path`` at it, so the
formulas render without a network connection.
"""

import os
import warnings
from datetime import date

import sklearn_gabor

project = "sklearn-gabor"
author = "the sklearn-gabor developers"
copyright = f"{date.today().year}, {author}"
version = release = sklearn_gabor.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served from _static/, not from a CDN
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"

# -- autodoc / autosummary / numpydoc ---------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

# -- sphinx-gallery ----------------------------------------------------------
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # run only plot_*.py
    "ignore_pattern": r"(__init__|/long_)",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 5,
    # its execution-times page loads jQuery and DataTables from CDNs
    "write_computation_times": False,
}

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-gabor {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
