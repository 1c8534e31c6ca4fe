"""Dialect adapters. Each subpackage is one dialect, registered through the
``switchboard.dialects`` entry-point group; :mod:`adapters.hookspecs` is the contract they
implement. Adapters never import each other."""
