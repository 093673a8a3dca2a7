"""Fixtures for the model core tests (the shared ones are in tests/serving/conftest.py)."""
