"""The terminal UI (Textual): a thin shell over :mod:`auditkit.engine` for reviewers.

Textual is imported only by :mod:`auditkit.tui.app`, the screens and the widgets; ``session`` and
``views`` are plain Python so that they can be tested and reused without a terminal.
"""
