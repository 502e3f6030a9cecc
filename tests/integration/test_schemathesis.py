"""Schemathesis against a real `minigroups serve` (embedded default): no 5xx, and every answer
fits the served OpenAPI document (status, content type, headers, body).

Bounded: `EXAMPLES` positive and `NEGATIVE_EXAMPLES` negative cases per operation, one fixed
seed, no shrinking; the run takes well under the 3 minutes the issue allows. Requests carry the
development token that `serve` prints, so they reach past authentication, and half of the
generated path parameters and create bodies are swapped for a minigroup, audience, scope and
property that exist, so that successes are checked against the document too, not only 404s.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.served import Served, serve

SEED = 20261109
AUDIENCE = "usr.minigroups.local"  # the embedded default's: authorization `none`
SCOPE = "schemathesis-known"
EXAMPLES = 20
NEGATIVE_EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("schemathesis")) as running:
        yield running


def _run(
    operation: Any, mode: GenerationMode, examples: int, served: Served, seen: set[int]
) -> None:
    @seed(SEED)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        response = case.call(base_url=served.base, headers=served.auth, timeout=30)
        seen.add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=served.auth)

    check()


def _known(served: Served) -> dict[str, str]:
    """A minigroup with a class property, and an account property of the token's account."""
    created = httpx.post(
        f"{served.base}/api/v1/minigroups",
        json={"scope": SCOPE, "audience": AUDIENCE, "properties": {"is_adult": True}},
        headers=served.auth,
    )
    assert created.status_code == 201, created.text
    account = f"{served.base}/api/v1/account/properties/is_adult"
    assert httpx.put(account, json=True, headers=served.auth).status_code == 200
    return {
        "id": created.json()["id"],
        "audience": AUDIENCE,
        "scope": SCOPE,
        "property_id": "is_adult",
    }


def _steer(schema: Any, known: dict[str, str]) -> None:
    """Half the cases name what exists: path parameters, and the audience of a create."""

    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
        if not path_parameters:
            return st.just(path_parameters)
        swapped = {name: known.get(name, value) for name, value in path_parameters.items()}
        return st.sampled_from([path_parameters, swapped])

    def flatmap_body(context: Any, body: Any) -> Any:
        if context.operation.path != "/api/v1/minigroups" or not isinstance(body, dict):
            return st.just(body)
        return st.sampled_from([body, {**body, "audience": AUDIENCE}])

    schema.hook(flatmap_path_parameters)
    schema.hook(flatmap_body)


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(
    served: Served,
) -> None:
    schema = schemathesis.openapi.from_url(f"{served.base}/api/v1/openapi.json")
    _steer(schema, _known(served))
    failures: list[str] = []
    statuses: dict[tuple[str, GenerationMode], set[int]] = {}
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # the document describes an operation schemathesis can't use
            failures.append(f"unusable operation: {result.err()}")
            continue
        operation = result.ok()
        for mode, examples in (
            (GenerationMode.POSITIVE, EXAMPLES),
            (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES),
        ):
            seen = statuses.setdefault((operation.label, mode), set())
            try:
                _run(operation, mode, examples, served, seen)
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise
                # every input of the operation is valid (no parameters, or any string)
            except (
                Exception,
                BaseExceptionGroup,
            ) as exc:  # each operation's failure is reported, not just the first
                failures.append(f"{operation.label} ({mode.value}):\n{exc}")
    assert len({label for label, _ in statuses}) >= 20  # every operation of the embedded default
    answered = set().union(*statuses.values())
    assert 401 not in answered  # the token reaches past authentication
    succeeded = {label for (label, _), seen in statuses.items() if any(s < 300 for s in seen)}
    assert len(succeeded) >= 12, statuses  # successes are checked, not only 404s
    assert not failures, "\n\n".join(failures) + "\n\nserve printed:\n" + "".join(served.output)
