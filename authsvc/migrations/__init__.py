"""Alembic: ``env.py`` and one revision per schema change in ``versions/``.

Package data of authsvc, so that an installed wheel can run ``authsvc db upgrade``; found
through the package (``script_location = authsvc:migrations``), never through the source tree.
"""
