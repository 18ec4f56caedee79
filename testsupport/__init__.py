"""What the tests share that is not a fixture: row factories (`factories`), payments taken
through the real services (`payments`) and the test database's roles (`database`).

It lives outside `wasla/` and `sandbox/` (their import contracts do not cover test code) and is
importable from every test because pytest puts the repository root on `sys.path`. Fixtures stay
in the `conftest.py` files, where pytest finds them.
"""
