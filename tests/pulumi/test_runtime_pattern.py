"""The `@pulumi.runtime.test` + Output.apply pattern the stack tests use really fails on a failed assertion."""

from __future__ import annotations

import pulumi
import pytest

from tests.pulumi.conftest import use_mocks


def test_failed_assertion_inside_apply_fails_the_test() -> None:
    use_mocks("k8s")

    @pulumi.runtime.test
    def check() -> pulumi.Output[None]:
        def verify(value: str) -> None:
            assert value == "expected", "inside apply"

        return pulumi.Output.from_input("actual").apply(verify)

    with pytest.raises(AssertionError, match="inside apply"):
        check()


def test_passing_assertion_inside_apply_passes() -> None:
    use_mocks("k8s")
    seen: list[str] = []

    @pulumi.runtime.test
    def check() -> pulumi.Output[None]:
        return pulumi.Output.from_input("actual").apply(seen.append)

    check()
    assert seen == ["actual"]  # the apply ran before the decorated function returned
