"""`make test` hands tests to its xdist workers in collection order: the plugin puts the ones
marked `long(seconds)` first, longest first, and leaves the others in their order."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_long_tests_come_first_longest_first_the_rest_in_order(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nmarkers =\n    long(seconds): long\n"
    )
    pytester.makepyfile(
        """
        import pytest

        def test_a(): pass

        @pytest.mark.long(10)
        def test_shorter_long(): pass

        def test_b(): pass

        @pytest.mark.long(100)
        def test_longest(): pass
        """
    )
    result = pytester.runpytest("-p", "tangible_devstack.pytest_plugin", "--collect-only", "-q")
    collected = [line.split("::")[1] for line in result.outlines if "::" in line]
    assert collected == ["test_longest", "test_shorter_long", "test_a", "test_b"]
