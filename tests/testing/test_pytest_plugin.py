"""The user-facing pytest plugin (``mirakl_sync.testing.pytest_plugin``), run the way a user runs
it: pytest's ``pytester`` runs a small test file of an imaginary integration that uses the
fixtures, with the plugin enabled by ``-p``, by ``pytest_plugins`` in a conftest, or by a
``pytest11`` entry point (a distribution made up on ``sys.path`` with the entry point line the
project's ``pyproject.toml`` declares)."""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

import pytest

from mirakl_sync.testing import pytest_plugin

pytest_plugins = ["pytester"]

PLUGIN = "mirakl_sync.testing.pytest_plugin"
#: The entry point the project declares (``[project.entry-points.pytest11]``). Its name is the
#: module's own name, so ``-p mirakl_sync.testing.pytest_plugin`` and ``pytest_plugins = [...]``
#: keep working when the entry point is installed (pytest would otherwise register the module
#: twice under two names and stop with "Plugin already registered under a different name").
ENTRY_POINT = (PLUGIN, PLUGIN)

FIXTURES = (
    "sandbox_clock",
    "mirakl_sandbox",
    "inventory_planner_sandbox",
    "mirakl_client",
    "inventory_planner_client",
    "mirakl_vcr_config",
)

USER_TESTS = """
from datetime import timedelta

from mirakl_sync.mirakl.models import StockUpdate


def test_stock_push_lands_on_the_sandbox(mirakl_sandbox, mirakl_client, sandbox_clock):
    mirakl_sandbox.add_offer("MUG-1", quantity=0, price="9.90")
    result = mirakl_client.stock.import_quantities([StockUpdate(offer_sku="MUG-1", quantity=4)])
    sandbox_clock.advance(seconds=30)  # imports complete in simulated time
    assert mirakl_client.stock.import_status(result.import_id).status == "COMPLETE"
    assert mirakl_sandbox.offer("MUG-1").available == 4


def test_orders_are_read_in_simulated_time(mirakl_sandbox, mirakl_client, sandbox_clock):
    mirakl_sandbox.add_offer("MUG-1", quantity=5, price="9.90")
    placed = mirakl_sandbox.place_order([("MUG-1", 2)])
    start = sandbox_clock.now()
    assert [o.order_id for o in mirakl_client.orders.list()] == [placed.order_id]
    assert [o.order_id for o in mirakl_client.orders.list()] == [placed.order_id]
    # OR11 is limited to one call a minute: the client waited on the sandbox clock.
    assert sandbox_clock.now() - start >= timedelta(minutes=1)


def test_one_clock_for_everything(sandbox_clock, mirakl_sandbox, inventory_planner_sandbox):
    assert mirakl_sandbox.clock is sandbox_clock
    assert inventory_planner_sandbox.clock is sandbox_clock


def test_inventory_planner(inventory_planner_sandbox, inventory_planner_client):
    inventory_planner_sandbox.add_variant("MUG-1", stock={"main": 3}, price="9.90")
    variants = list(inventory_planner_client.variants.list())
    assert [v.sku for v in variants] == ["MUG-1"]


def test_every_test_starts_empty(mirakl_sandbox, inventory_planner_sandbox):
    assert mirakl_sandbox.offer("MUG-1") is None
    assert inventory_planner_sandbox.variant("MUG-1") is None


def test_vcr_config_filters_secrets(mirakl_vcr_config):
    assert ("authorization", "REDACTED") in mirakl_vcr_config["filter_headers"]
    assert callable(mirakl_vcr_config["before_record_response"])
"""
USER_TEST_COUNT = 6


def _installed_entry_point() -> importlib.metadata.EntryPoint | None:
    """The plugin's ``pytest11`` entry point when the installed package declares one."""
    for entry_point in importlib.metadata.entry_points(group="pytest11"):
        if entry_point.value == PLUGIN:
            return entry_point
    return None


def _fake_distribution(pytester: pytest.Pytester) -> None:
    """Put a distribution declaring the plugin's ``pytest11`` entry point on ``sys.path``."""
    site = pytester.mkdir("site")
    info = site / "mirakl_sync_plugin_check-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mirakl-sync-plugin-check\nVersion: 0.0\n", encoding="utf-8"
    )
    name, value = ENTRY_POINT
    (info / "entry_points.txt").write_text(f"[pytest11]\n{name} = {value}\n", encoding="utf-8")
    pytester.syspathinsert(site)


def test_fixtures_through_dash_p(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_integration=USER_TESTS)
    result = pytester.runpytest("-p", PLUGIN)
    result.assert_outcomes(passed=USER_TEST_COUNT)


def test_fixtures_through_pytest_plugins_in_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(f"pytest_plugins = [{PLUGIN!r}]\n")
    pytester.makepyfile(test_integration=USER_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=USER_TEST_COUNT)


@pytest.mark.parametrize("also", ["nothing", "dash-p", "conftest"])
def test_fixtures_through_the_entry_point(pytester: pytest.Pytester, also: str) -> None:
    """Installed with its entry point, the plugin loads by itself, and enabling it explicitly
    as well (``-p`` or ``pytest_plugins``) does not register it twice."""
    _fake_distribution(pytester)
    pytester.makepyfile(test_integration=USER_TESTS)
    args: list[str] = []
    if also == "dash-p":
        args = ["-p", PLUGIN]
    elif also == "conftest":
        pytester.makeconftest(f"pytest_plugins = [{PLUGIN!r}]\n")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=USER_TEST_COUNT)
    if also == "nothing":  # and "-p no:<entry point name>" switches it off
        off = pytester.runpytest("-p", f"no:{ENTRY_POINT[0]}", "-k", "vcr")
        off.assert_outcomes(errors=1)
        off.stdout.fnmatch_lines(["*fixture 'mirakl_vcr_config' not found*"])


def test_without_the_plugin_the_fixtures_are_missing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_integration=USER_TESTS)
    # Installed, the entry point loads the plugin everywhere: switch it off by name.
    args = ["-p", f"no:{ENTRY_POINT[0]}"] if _installed_entry_point() is not None else []
    result = pytester.runpytest(*args)
    result.assert_outcomes(errors=USER_TEST_COUNT)
    result.stdout.fnmatch_lines(["*fixture 'mirakl_sandbox' not found*"])


def test_the_declared_entry_point_matches_when_installed() -> None:
    entry_point = _installed_entry_point()
    if entry_point is None:
        pytest.skip("the installed package does not declare the pytest11 entry point yet")
    assert (entry_point.name, entry_point.value) == ENTRY_POINT


def test_the_plugin_exports_its_fixtures() -> None:
    for name in FIXTURES:
        assert name in pytest_plugin.__all__
        assert callable(getattr(pytest_plugin, name))


def test_fixture_names_do_not_clash_with_the_project_tests() -> None:
    """With the entry point installed the plugin is loaded in the project's own test runs too:
    none of its fixtures may shadow (or be shadowed by) a fixture of ``tests/``."""
    tests_dir = Path(__file__).resolve().parents[1]
    project: set[str] = set()
    for path in tests_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                "fixture" in ast.unparse(d) for d in node.decorator_list
            ):
                project.add(node.name)
    assert project  # the scan found the project's fixtures
    assert project.isdisjoint(FIXTURES), project & set(FIXTURES)
