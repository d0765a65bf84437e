"""Recordings respkit ships: drawn from the seed documents by `python -m conformance.recordings.extract`."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
