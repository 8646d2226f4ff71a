"""The reviewers' workbench below the browser: storage (SQLite and a real PostgreSQL), stable ids across
a real re-alignment, conflicts, undo, export, and the web app's security (token, CSRF, escaping, paths)."""

from __future__ import annotations

import csv
import json
import shutil
import threading
from pathlib import Path

import pytest
from lxml import etree
from starlette.testclient import TestClient

from benchmarks.review_run import make_run
from pipeline.review import export as review_export
from pipeline.review.app import CSRF_COOKIE, create_app
from pipeline.review.run import Run
from pipeline.review.store import Conflict, Store, default_url

from .conftest import SCANS, SCHEMAS, archocr
from .review_db import postgres_server

SCRIPT = "<script>alert(1)</script>"
ONERROR = '"onerror=alert(2) x="'


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return default_url(tmp_path)
    url = request.getfixturevalue("postgres_url")
    store = Store(url)  # a clean table for each test
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM decisions")
    store.close()
    return url


@pytest.fixture
def generated(tmp_path) -> Path:
    folder = tmp_path / "run"
    make_run(
        folder, pages=3, per_page=5, documents=2, special=[(SCRIPT, ONERROR), ("Политебюро", "Политбюро")]
    )
    return folder


@pytest.fixture(scope="module")
def aligned(sample_run, tmp_path_factory) -> tuple[Path, Path]:
    """The sample scans' run, aligned with their transcripts by `archocr align`."""
    folder = tmp_path_factory.mktemp("review") / "run"
    shutil.copytree(sample_run, folder)
    transcript = folder.parent / "transcripts.txt"
    transcript.write_text(
        "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((SCANS / "transcripts").glob("*"))),
        encoding="utf-8",
    )
    archocr("align", str(folder), "--transcript", str(transcript), check=False)
    assert (folder / "discrepancies.json").is_file()
    return folder, transcript


def _decide_all(store: Store, run: Run, actions: dict[str, str], reviewer: str = "Анна") -> None:
    for did, action in actions.items():
        extra = {"reading": "ИСПРАВЛЕНО"} if action == "e" else {}
        extra |= {"comment": "посмотреть оригинал"} if action == "u" else {}
        store.decide(run.discrepancies[did], action, reviewer=reviewer, seen_version=0, **extra)


# --- storage ------------------------------------------------------------------------------------------


def test_decisions_undo_and_history_are_append_only(generated, db_url):
    run = Run(generated)
    store = Store(db_url)
    d = run.discrepancies[run.order[0]]
    store.decide(d, "t", reviewer="Анна", seen_version=0)
    store.decide(d, "e", reviewer="Борис", seen_version=1, reading="Политбюро", comment="по оригиналу")
    assert store.state(d["id"]).status == "e"
    store.decide(d, "undo", reviewer="Борис", seen_version=2)
    state = store.state(d["id"])
    assert state.status == "t" and state.current.reviewer == "Анна" and state.version == 3
    store.decide(d, "undo", reviewer="Анна", seen_version=3)
    assert store.state(d["id"]).status == "open"
    assert [h.action for h in store.history()] == ["t", "e", "undo", "undo"]  # nothing deleted
    with pytest.raises(ValueError, match="no decision to undo"):
        store.decide(d, "undo", reviewer="Анна", seen_version=4)
    with pytest.raises(ValueError, match="needs a comment"):
        store.decide(d, "u", reviewer="Анна", seen_version=4)
    # A second process over the same database sees the same replayed state; the schema is versioned.
    other = Store(db_url)
    with other.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0001"
    assert other.refresh()[d["id"]].status == "open" and other.count() == 4
    store.close()
    other.close()


def test_a_row_that_commits_late_is_still_replayed(generated, tmp_path):
    """Sequence ids can become visible out of order on PostgreSQL: a late row is not skipped."""
    run = Run(generated)
    url = default_url(tmp_path)
    writer, reader = Store(url), Store(url)
    first, second = (run.discrepancies[i] for i in run.order[:2])
    writer.decide(first, "t", reviewer="Анна", seen_version=0)
    with writer.engine.begin() as conn:  # the next id is taken, but this row shows up only later
        conn.exec_driver_sql("UPDATE decisions SET id = 10 WHERE id = 1")
    assert reader.refresh()[first["id"]].status == "t" and reader.last_row == 10
    writer.decide(second, "o", reviewer="Борис", seen_version=0)
    with writer.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE decisions SET id = 5 WHERE id = 11")
    assert reader.refresh()[second["id"]].status == "o"


def test_a_stale_decision_is_a_conflict_not_an_overwrite(generated, db_url):
    run = Run(generated)
    first, second = Store(db_url), Store(db_url)  # two servers on one database
    d = run.discrepancies[run.order[1]]
    first.decide(d, "t", reviewer="Анна", seen_version=0)
    with pytest.raises(Conflict, match="changed by Анна .*version 0.*version 1"):
        second.decide(d, "o", reviewer="Борис", seen_version=0)
    assert second.state(d["id"]).current.reviewer == "Анна"
    # Eight reviewers deciding the same discrepancy at the same moment: exactly one wins.
    d2 = run.discrepancies[run.order[2]]
    results: list[str] = []
    barrier = threading.Barrier(8, timeout=60)
    stores = [Store(db_url) for _ in range(8)]

    def race(i: int) -> None:
        store = stores[i]
        barrier.wait()
        try:
            store.decide(d2, "o", reviewer=f"r{i}", seen_version=0)
            results.append("ok")
        except Conflict:
            results.append("conflict")
        store.close()

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 7 + ["ok"]
    assert [h.version for h in first.history() if h.discrepancy_id == d2["id"]] == [1]


def test_ids_survive_a_realignment_and_orphans_are_reported(aligned, tmp_path):
    folder, transcript = aligned
    run = Run(folder)
    assert run.discrepancies, "the samples have discrepancies"
    store = Store(default_url(tmp_path))
    ids = list(run.order)
    _decide_all(store, run, {i: "o" for i in ids})
    archocr("align", str(folder), "--transcript", str(transcript))  # a re-alignment, same OCR
    assert list(Run(folder).order) == ids
    # The editor fixes the transcript where the scan was right: that discrepancy is gone, its decision
    # is orphaned, not dropped.
    gone = run.discrepancies[ids[0]]
    text = transcript.read_text(encoding="utf-8")
    assert text[gone["transcript_start"] : gone["transcript_end"]] == gone["transcript_text"]
    fixed = tmp_path / "fixed.txt"
    fixed.write_text(
        text[: gone["transcript_start"]] + gone["ocr_text"] + text[gone["transcript_end"] :], encoding="utf-8"
    )
    archocr("align", str(folder), "--transcript", str(fixed))
    rerun = Run(folder)
    assert ids[0] not in rerun.discrepancies
    summary = review_export.export(rerun, store)
    orphaned = json.loads((folder / "review-export.json").read_text(encoding="utf-8"))["orphaned"]
    assert summary["orphaned"] >= 1 and ids[0] in {o["discrepancy_id"] for o in orphaned}
    queue = TestClient(create_app(rerun, store), base_url="http://127.0.0.1:8765").get("/").text
    assert f"{summary['orphaned']} decision(s) whose discrepancy is no longer in this run" in queue
    assert sum(1 for _ in (folder / "decisions.jsonl").open()) == len(ids)
    archocr("align", str(folder), "--transcript", str(transcript))  # back as it was for other tests


# --- export -------------------------------------------------------------------------------------------


def test_export_applies_t_and_e_and_lists_o_as_errata(generated, tmp_path):
    run = Run(generated)
    store = Store(default_url(generated))
    page1 = [d for d in run.discrepancies.values() if d["document"] == "doc000" and d["page"] == 1]
    t, e, o, undone = page1[0], page1[1], page1[2], page1[3]
    store.decide(t, "t", reviewer="Анна", seen_version=0)
    store.decide(e, "e", reviewer="Борис", seen_version=0, reading="Политбюро ЦК")
    store.decide(o, "o", reviewer="Анна", seen_version=0, comment="в издании опечатка")
    store.decide(undone, "t", reviewer="Анна", seen_version=0)
    store.decide(undone, "undo", reviewer="Анна", seen_version=1)
    summary = review_export.export(run, store)
    assert summary["readings_changed"] == 2 and summary["errata"] == 1
    page_dir = generated / "doc000"
    original = (page_dir / "0001.txt").read_text(encoding="utf-8")
    reviewed = (page_dir / "0001.reviewed.txt").read_text(encoding="utf-8")
    expected = original
    for d, new in sorted([(t, t["transcript_text"]), (e, "Политбюро ЦК")], key=lambda x: -x[0]["ocr_start"]):
        assert expected[d["ocr_start"] : d["ocr_end"]] == d["ocr_text"]
        expected = expected[: d["ocr_start"]] + new + expected[d["ocr_end"] :]
    assert reviewed == expected and reviewed != original
    assert undone["ocr_text"] in reviewed[undone["ocr_start"] - 40 :]
    # Errata: the transcript's offsets point at the transcript's wrong reading.
    rows = list(csv.DictReader((generated / "errata.csv").open(encoding="utf-8")))
    transcript = run.transcript
    assert len(rows) == 1 and rows[0]["comment"] == "в издании опечатка" and rows[0]["reviewer"] == "Анна"
    assert (
        transcript[int(rows[0]["transcript_start"]) : int(rows[0]["transcript_end"])] == o["transcript_text"]
    )
    assert (
        json.loads((generated / "errata.json").read_text(encoding="utf-8"))["errata"][0]["discrepancy"]
        == o["id"]
    )
    history = [json.loads(line) for line in (generated / "decisions.jsonl").open(encoding="utf-8")]
    assert [h["action"] for h in history] == ["t", "e", "o", "t", "undo"]
    # ALTO and PAGE-XML: reviewed reading, OCR kept as alternative, the review as a processing step.
    alto = etree.parse(str(page_dir / "0001.reviewed.alto.xml"))
    etree.XMLSchema(etree.parse(str(SCHEMAS / "alto-4-2.xsd"))).assertValid(alto)
    ns = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
    changed = alto.xpath("//a:String[a:ALTERNATIVE]", namespaces=ns)
    assert {s.get("CONTENT") for s in changed} == {t["transcript_text"], "Политбюро ЦК"}
    assert {s.findtext("a:ALTERNATIVE", namespaces=ns) for s in changed} == {t["ocr_text"], e["ocr_text"]}
    step = alto.xpath("//a:Processing[@ID='review']", namespaces=ns)[0]
    assert step.findtext("a:processingAgency", namespaces=ns) == "Анна, Борис"
    page_xml = etree.parse(str(page_dir / "0001.reviewed.page.xml"))
    etree.XMLSchema(etree.parse(str(SCHEMAS / "pagecontent-2019-07-15.xsd"))).assertValid(page_xml)
    pns = {"p": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
    firsts = page_xml.xpath(
        "//p:Word/p:TextEquiv[@index='1'][@comments='reviewed']/p:Unicode/text()", namespaces=pns
    )
    assert sorted(firsts) == sorted([t["transcript_text"], "Политбюро ЦК"])
    assert page_xml.xpath("//p:MetadataItem[@name='review']/@value", namespaces=pns)[0].endswith(
        "Анна, Борис"
    )


def test_export_command_line(generated):
    run = Run(generated)
    store = Store(default_url(generated))
    d = run.discrepancies[run.order[0]]
    store.decide(d, "t", reviewer="Анна", seen_version=0)
    store.close()
    result = archocr("review", "export", str(generated))
    assert result.returncode == 0, result.stderr
    assert "1 readings changed" in result.stderr
    reviewed = (generated / d["document"] / f"{d['page']:04d}.reviewed.txt").read_text(encoding="utf-8")
    assert d["transcript_text"] in reviewed
    assert not list(generated.rglob("*.part"))  # nothing half-written


def test_export_command_line_on_postgresql(generated, postgres_url):
    store = Store(postgres_url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM decisions")
    run = Run(generated)
    d = run.discrepancies[run.order[0]]
    store.decide(d, "o", reviewer="Борис", seen_version=0, comment="опечатка издания")
    store.close()
    result = archocr("review", "export", str(generated), "--db", postgres_url)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((generated / "errata.csv").open(encoding="utf-8")))
    assert [(r["discrepancy"], r["reviewer"]) for r in rows] == [(d["id"], "Борис")]
    assert not (generated / "review.sqlite").exists()


# --- the web app --------------------------------------------------------------------------------------


def _client(folder: Path, token: str | None = None) -> TestClient:
    run = Run(folder)
    return TestClient(
        create_app(run, Store(default_url(folder)), token=token), base_url="http://127.0.0.1:8765"
    )


def _csrf(client: TestClient) -> str:
    client.get("/")
    return client.cookies[CSRF_COOKIE]


def test_api_decide_conflict_and_undo(generated):
    client = _client(generated)
    csrf = _csrf(client)
    queue = client.get("/api/queue").json()
    did = queue["ids"][0]
    headers = {"X-CSRF-Token": csrf, "Origin": "http://127.0.0.1:8765"}
    body = {"id": did, "action": "t", "version": 0, "reviewer": "Анна"}
    ok = client.post("/api/decide", json=body, headers=headers)
    assert ok.status_code == 200 and ok.json()["status"] == "t"
    stale = client.post("/api/decide", json={**body, "action": "o", "reviewer": "Борис"}, headers=headers)
    assert stale.status_code == 409 and "changed by Анна" in stale.json()["error"]
    assert client.post("/api/decide", json={**body, "reviewer": ""}, headers=headers).status_code == 400
    undo = client.post("/api/decide", json={**body, "action": "undo", "version": 1}, headers=headers)
    assert undo.status_code == 200 and undo.json()["status"] == "open"
    assert client.get("/api/queue?status=open").json()["total"] == queue["total"]
    assert client.get(f"/api/d/{did}").json()["version"] == 2


def test_queue_filters_by_status_reviewer_kind_and_document(generated):
    run = Run(generated)
    store = Store(default_url(generated))
    client = TestClient(create_app(run, store), base_url="http://127.0.0.1:8765")
    everything = client.get("/api/queue").json()["ids"]
    assert everything == [i for i in run.order if run.discrepancies[i]["kind"] != "normalisation"]
    risks = [run.discrepancies[i]["risk"] for i in everything]
    assert risks == sorted(risks)  # riskiest first
    t_id, u_id, o_id = everything[:3]
    store.decide(run.discrepancies[t_id], "t", reviewer="Анна", seen_version=0)
    store.decide(run.discrepancies[u_id], "u", reviewer="Борис", seen_version=0, comment="штамп")
    store.decide(run.discrepancies[o_id], "o", reviewer="Борис", seen_version=0)

    def ids(query: str) -> list[str]:
        return client.get(f"/api/queue?{query}").json()["ids"]

    assert ids("status=open") == [i for i in everything if i not in (t_id, o_id)]
    assert ids("status=decided") == [t_id, o_id]
    assert ids("status=u") == [u_id]
    assert ids("reviewer=Борис") == [u_id, o_id]
    assert ids("reviewer=Борис&status=decided") == [o_id]
    assert all(run.discrepancies[i]["kind"] == "variant" for i in ids("kind=variant"))
    assert all(run.discrepancies[i]["document"] == "doc001" for i in ids("document=doc001"))
    counts = client.get("/api/queue").json()["counts"]
    assert sum(k["decided"] for k in counts["kinds"].values()) == 2  # u stays open


def test_csrf_origin_and_get_cannot_change_anything(generated):
    client = _client(generated)
    csrf = _csrf(client)
    did = client.get("/api/queue").json()["ids"][0]
    body = {"id": did, "action": "o", "version": 0, "reviewer": "Анна"}
    assert client.post("/api/decide", json=body).status_code == 403  # no token in the header
    assert client.post("/api/decide", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    evil = {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}
    assert client.post("/api/decide", json=body, headers=evil).status_code == 403
    assert client.get("/api/decide").status_code == 405
    assert client.post("/api/export", headers={"Origin": "http://127.0.0.1:8765"}).status_code == 403
    assert client.get(f"/api/d/{did}").json()["status"] == "open"


def test_without_a_token_only_local_host_names_are_served(generated):
    client = _client(generated)
    assert client.get("/").status_code == 200
    rebound = client.get("/api/queue", headers={"Host": "attacker.example:8765"})
    assert rebound.status_code == 421 and "ids" not in rebound.text
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200


def test_token_is_required_on_every_request(generated):
    token = "s3cret-token-for-tests"
    client = _client(generated, token=token)
    for path in ("/", "/api/queue", "/image/0", "/static/review.js"):
        assert client.get(path).status_code == 401
    assert client.get("/api/queue", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    first = client.get(f"/?token={token}&kind=ocr_error", follow_redirects=False)
    assert first.status_code == 303 and "token" not in first.headers["location"]
    assert client.get("/api/queue").status_code == 200  # the cookie carries it from now on
    assert TestClient(client.app).get("/?token=wrong").status_code == 401


def test_serving_off_localhost_needs_a_token(generated, tmp_path):
    result = archocr("review", str(generated), "--host", "0.0.0.0", "--port", "0", timeout=60)
    assert result.returncode == 2 and "--token" in result.stderr
    empty = tmp_path / "token"
    empty.write_text("\n")
    result = archocr("review", str(generated), "--host", "0.0.0.0", "--token-file", str(empty), timeout=60)
    assert result.returncode == 2 and "empty" in result.stderr


def test_every_reading_is_escaped(generated):
    client = _client(generated)
    run = Run(generated)
    hostile = next(d for d in run.discrepancies.values() if d["ocr_text"] == SCRIPT)
    assert hostile["transcript_text"] == ONERROR
    pages = [client.get("/").text, client.get(f"/d/{hostile['id']}").text, client.get("/page/0").text]
    for html in pages:
        assert "<script>alert" not in html and '"onerror=' not in html
    detail = pages[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "&#34;onerror=alert(2) x=&#34;" in detail
    assert "script-src 'self'" in client.get("/").headers["content-security-policy"]


def test_paths_from_requests_never_reach_the_file_system(generated):
    client = _client(generated)
    assert client.get("/image/0").status_code == 200
    for path in (
        "/image/999",
        "/image/-1",
        "/image/..%2f..%2fmanifest.json",
        "/image/../../etc/passwd",
        "/static/../review.sqlite",
        "/static/%2e%2e/store.py",
        "/d/..%2fmanifest.json",
        "/page/../manifest.json",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"documents" not in response.content and b"SQLite" not in response.content
    # A manifest naming an image outside the run is not served either.
    manifest = json.loads((generated / "manifest.json").read_text())
    manifest["documents"][0]["pages"][0]["outputs"]["image"] = "../../../../etc/passwd"
    (generated / "manifest.json").write_text(json.dumps(manifest))
    (generated / "doc000" / "0001.png").unlink()
    assert _client(generated).get("/image/0").status_code == 404


def test_an_unknown_transcript_encoding_is_a_usage_error(generated):
    result = archocr("review", str(generated), "--encoding", "no-such-codec", "--port", "0", timeout=60)
    assert result.returncode == 2 and "no-such-codec" in result.stderr


def test_a_damaged_discrepancies_file_is_a_clear_error(generated, tmp_path):
    run = tmp_path / "damaged"
    shutil.copytree(generated, run)
    (run / "discrepancies.json").write_text("{not json", encoding="utf-8")
    for args in (("review", str(run), "--port", "0"), ("review", "export", str(run))):
        result = archocr(*args, timeout=60)
        assert result.returncode == 1, args
        assert "discrepancies.json" in result.stderr and "Traceback" not in result.stderr
