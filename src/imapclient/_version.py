"""The package version (one place, importable from anywhere in the package)."""

__version__ = "0.1.0"
