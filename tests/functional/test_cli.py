"""The ``alex`` command line in process: ingest files, search, docs, status, errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from alex.cli import app
from tests.processes import run_alex

runner = CliRunner()


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` in Helvetica, written by hand (no PDF library needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def test_ingest_files_search_show_delete(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text(
        "---\ntitle: Alpha note\nticker: ALPH\n---\nAlpha Corp sells turbines."
    )
    (folder / "b.html").write_text(
        "<html><title>Beta</title><body><p>Beta Bank lends to farmers.</p>"
        "<script>evil()</script></body></html>"
    )
    (folder / "c.pdf").write_bytes(minimal_pdf("Gamma Mining output rose 12 percent"))
    (folder / "empty.txt").write_text("   ")
    result = runner.invoke(app, ["ingest", str(folder), "-m", "topic=test"])
    assert result.exit_code == 1, "an unreadable file makes the exit code 1"
    assert "skipped" in result.output and "empty.txt" in result.output
    assert "3 documents: 3 new" in result.output

    found = runner.invoke(app, ["search", "Gamma Mining output", "--json", "-k", "1"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.output)
    assert hits[0]["metadata"]["file"] == "c.pdf" and hits[0]["metadata"]["topic"] == "test"

    filtered = runner.invoke(app, ["search", "sells", "--json", "-f", "ticker=ALPH"])
    assert [h["metadata"]["title"] for h in json.loads(filtered.output)] == ["Alpha note"]

    again = runner.invoke(app, ["ingest", str(folder / "a.md"), "-m", "topic=test"])
    assert "1 unchanged" in again.output

    listed = json.loads(runner.invoke(app, ["docs", "list", "--json"]).output)
    assert listed["total"] == 3
    beta = next(d for d in listed["documents"] if d["metadata"].get("title") == "Beta")
    shown = runner.invoke(app, ["docs", "show", beta["document_id"]])
    assert "Beta Bank lends to farmers." in shown.output and "evil" not in shown.output

    assert runner.invoke(app, ["docs", "delete", beta["document_id"], "--yes"]).exit_code == 0
    status = runner.invoke(app, ["status", "--check"])
    assert status.exit_code == 0 and "integrity check passed" in status.output
    assert "documents" in status.output and "2" in status.output


def test_text_ingest_with_id_replaces(tmp_path: Path) -> None:
    first = runner.invoke(app, ["ingest", "--text", "Version one.", "--id", "note-1"])
    second = runner.invoke(app, ["ingest", "--text", "Version two.", "--id", "note-1"])
    assert first.output.startswith("created") and second.output.startswith("updated")
    assert json.loads(runner.invoke(app, ["docs", "list", "--json"]).output)["total"] == 1


def test_errors_are_one_line_not_a_traceback() -> None:
    for args in (
        ["search", "x", "--mode", "fuzzy"],
        ["docs", "show", "nope"],
        ["ingest"],
        ["search", "x", "-f", "novalue"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code != 0
    # Through main(), as the console script runs it: one red line and exit code 1.
    completed = run_alex("docs", "show", "nope", timeout=60)
    assert completed.returncode == 1
    assert "No document with id 'nope'" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["ingest", "--help"],
        ["search", "--help"],
        ["docs", "list", "--help"],
        ["docs", "show", "--help"],
        ["docs", "delete", "--help"],
        ["status", "--help"],
        ["research", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.output, args
