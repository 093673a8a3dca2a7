"""Helpers shared by the test suites: SavedModel exporters, server starters, HTTP and gRPC
clients, certificates. Imported as `tests.support.NAME`: pytest puts the repository root on
sys.path (`pythonpath` in pyproject.toml), so no test edits sys.path itself."""
