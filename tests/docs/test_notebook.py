"""The example notebook in docs/ runs end to end against the sandbox (in a real kernel)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "notebooks" / "mirakl-sync-tour.ipynb"
pytestmark = pytest.mark.slow


def test_the_example_notebook_runs_and_shows_tables_and_plots() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": "."}}
    )
    client.execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.get("output_type") == "error"]
    kinds = [mime for out in outputs for mime in out.get("data", {})]
    assert kinds.count("image/png") == 3  # slack, drift, payout plots
    html = [out["data"]["text/html"] for out in outputs if "text/html" in out.get("data", {})]
    assert any("HealthReport" in page for page in html)  # the report renders as HTML
    assert any("UNMAPPED_SKU" in page for page in html)  # the reconciliation table
