"""The reviewers' web app (Starlette, Jinja templates, a little JavaScript, nothing from the internet).

Security: with a token every request must carry it (header, cookie or a first `?token=`); state changes
are JSON POSTs that must carry the CSRF token of the page (double submit against its cookie) and, when
the browser says where they come from, an Origin of this very server; every string is escaped by
Jinja's autoescape; images are served by page number from the run's own files, never by a path.
"""

from __future__ import annotations

import hmac
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from rapidfuzz.distance import Levenshtein
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import export as review_export
from .run import Run
from .store import ACTIONS, Conflict, State, Store

STATIC = Path(__file__).resolve().parent / "static"
CSRF_COOKIE = "archocr_csrf"
TOKEN_COOKIE = "archocr_token"
STATUSES = ("open", "decided", *ACTIONS)
LOCAL_NAMES = {"127.0.0.1", "localhost", "::1"}
PAGE_SIZE = 200


class Security(BaseHTTPMiddleware):
    """Token on every request (when one is set), CSRF and Origin checks on every POST."""

    def __init__(self, app: Any, token: str | None) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: Any) -> Any:
        if not self.token:
            # Without a token only this machine's own names are served: a page elsewhere that
            # rebinds its host name to 127.0.0.1 (DNS rebinding) gets nothing.
            host = urlsplit("//" + request.headers.get("host", "")).hostname or ""
            if host not in LOCAL_NAMES:
                return PlainTextResponse(f"host {host!r} is not this machine: open 127.0.0.1", 421)
        if self.token:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            given = given or request.cookies.get(TOKEN_COOKIE, "")
            from_query = request.query_params.get("token", "")
            if from_query and hmac.compare_digest(from_query.encode(), self.token.encode()):
                # Keep the token out of the address bar and the logs from here on: a cookie carries it.
                query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
                response = RedirectResponse(request.url.path + (f"?{query}" if query else ""), 303)
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                return response
            if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
                return PlainTextResponse("a token is needed: open the address archocr printed", 401)
        request.state.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        if request.method not in ("GET", "HEAD"):
            problem = self._csrf_problem(request)
            if problem:
                return JSONResponse({"error": problem}, 403)
        response = await call_next(request)
        if CSRF_COOKIE not in request.cookies:
            response.set_cookie(CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict")
        return response

    @staticmethod
    def _csrf_problem(request: Request) -> str:
        if request.method != "POST":
            return "only POST changes anything"
        cookie = request.cookies.get(CSRF_COOKIE, "")
        header = request.headers.get("x-csrf-token", "")
        if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()):
            return "missing or wrong CSRF token: reload the page"
        origin = request.headers.get("origin") or request.headers.get("referer")
        if origin and origin != "null":
            host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
            if urlsplit(origin).netloc != host:
                return f"request from another site ({urlsplit(origin).netloc}) refused"
        elif origin == "null":
            return "request from an opaque origin refused"
        return ""


def _csrf_token(request: Request) -> str:
    return request.state.csrf


class Workbench:
    """The app's state: the run (read-only), the store, and the reviewers' queue over both."""

    def __init__(self, run: Run, store: Store) -> None:
        self.run = run
        self.store = store
        self.page_index = {key: i for i, key in enumerate(run.pages)}
        self.page_keys = list(run.pages)
        self._queues: dict[tuple[Any, int], list[str]] = {}
        self._static_queues: dict[tuple[Any, ...], tuple[list[str], dict[str, int]]] = {}

    def states(self) -> dict[str, State]:
        return self.store.refresh()

    def queue(self, filters: dict[str, str]) -> list[str]:
        """The filtered queue, riskiest first. What depends on the run alone (kind, document) is cached
        for good; what depends on decisions (status, reviewer) until a decision is added (by anyone)."""
        static = {k: v for k, v in filters.items() if k in ("kind", "document", "all")}
        if len(static) == len(filters):
            return self._static(static)[0]
        states = self.states()
        key = (tuple(sorted(filters.items())), self.store.last_row)
        ids = self._queues.get(key)
        if ids is None:
            if len(self._queues) > 64:
                self._queues.clear()
            ids = self._queues[key] = self._queue(filters, self._static(static)[0], states)
        return ids

    def position(self, filters: dict[str, str], did: str) -> tuple[int, list[str]]:
        ids = self.queue(filters)
        static = self._static({k: v for k, v in filters.items() if k in ("kind", "document", "all")})
        if ids is static[0]:
            return static[1].get(did, -1), ids
        try:
            return ids.index(did), ids
        except ValueError:
            return -1, ids

    def _static(self, filters: dict[str, str]) -> tuple[list[str], dict[str, int]]:
        key = tuple(sorted(filters.items()))
        cached = self._static_queues.get(key)
        if cached is None:
            ids = self._static_queue(filters)
            cached = self._static_queues[key] = (ids, {did: i for i, did in enumerate(ids)})
        return cached

    def _static_queue(self, filters: dict[str, str]) -> list[str]:
        kind, document = filters.get("kind", ""), filters.get("document", "")
        out = []
        for did in self.run.order:
            d = self.run.discrepancies[did]
            if kind:
                if d["kind"] != kind:
                    continue
            elif d["kind"] == "normalisation" and not filters.get("all"):
                continue
            if document and d["document"] != document:
                continue
            out.append(did)
        return out

    def _queue(self, filters: dict[str, str], static: list[str], states: dict[str, State]) -> list[str]:
        status, reviewer = filters.get("status", ""), filters.get("reviewer", "").strip()
        # Only decided discrepancies have a state: sets of those, then one pass over the static queue.
        current = {did: s.status for did, s in states.items() if s.current is not None}
        if status == "open":
            closed = {did for did, st in current.items() if st != "u"}
            static = [did for did in static if did not in closed]
        elif status == "decided":
            static = [did for did in static if current.get(did, "u") != "u"]
        elif status in ACTIONS:
            static = [did for did in static if current.get(did) == status]
        if reviewer:
            mine = {
                did for did, s in states.items() if s.current is not None and s.current.reviewer == reviewer
            }
            static = [did for did in static if did in mine]
        return static

    def counts(self) -> dict[str, Any]:
        states = self.states()
        per_kind: dict[str, dict[str, int]] = {}
        per_page: dict[str, dict[str, Any]] = {}
        for key, page in self.run.pages.items():
            resolved = 0
            row = {"decided": 0, "open": 0}
            for d in page.discrepancies:
                state = states.get(d["id"])
                decided = state is not None and state.status not in ("open", "u")
                bucket = per_kind.setdefault(d["kind"], {"decided": 0, "open": 0})
                bucket["decided" if decided else "open"] += 1
                row["decided" if decided else "open"] += 1
                if decided:
                    resolved += Levenshtein.distance(d["ocr_text"], d["transcript_text"])
            cer = page.cer or {}
            chars = cer.get("chars") or 0
            errors = (cer.get("cer") or 0.0) * chars
            row.update(
                key=key,
                index=self.page_index[key],
                document=page.document,
                page=page.number,
                status=page.status,
                cer=cer.get("cer"),
                cer_now=max(0.0, errors - resolved) / chars if chars else None,
            )
            per_page[key] = row
        orphaned = sum(
            1 for did, s in states.items() if s.current is not None and did not in self.run.discrepancies
        )
        return {"kinds": per_kind, "pages": per_page, "orphaned": orphaned}

    def detail(self, did: str) -> dict[str, Any]:
        d = self.run.discrepancies[did]
        history = self.store.rows(did)
        state = State()
        for h in history:
            state.apply(h)
        page = self.run.pages[d["page_key"]]
        width, height = page.size
        crop = None
        if d.get("bbox") and page.image is not None:
            box = d["bbox"]
            pad = max(30, (box["y1"] - box["y0"]))
            crop = {
                "x": 0,
                "y": max(0, box["y0"] - pad),
                "w": width,
                "h": min(height, box["y1"] + pad) - max(0, box["y0"] - pad),
            }
        return {
            "d": d,
            "state": state,
            "history": history,
            "page": page,
            "page_index": self.page_index[d["page_key"]],
            "width": width,
            "height": height,
            "crop": crop,
            "context": self.run.context(d),
        }


def _int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


def _filters(request: Request) -> dict[str, str]:
    keys = ("kind", "document", "status", "reviewer", "all")
    return {k: request.query_params.get(k, "") for k in keys if request.query_params.get(k)}


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline.review", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
    )
    env.filters["qs"] = lambda filters, **extra: urlencode({**filters, **extra})
    return env


def create_app(run: Run, store: Store, token: str | None = None) -> Starlette:
    bench = Workbench(run, store)
    env = _env()

    def render(request: Request, name: str, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(
            csrf=_csrf_token(request), run=run, kinds=run.kinds, statuses=STATUSES, actions=ACTIONS, **context
        )
        return HTMLResponse(
            html, headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
        )

    async def queue_page(request: Request) -> HTMLResponse:
        filters = _filters(request)
        ids = bench.queue(filters)
        offset = max(0, _int(request, "offset", 0))
        states = bench.states()
        rows = [(run.discrepancies[i], states.get(i)) for i in ids[offset : offset + PAGE_SIZE]]
        return render(
            request,
            "queue.html.j2",
            filters=filters,
            rows=rows,
            total=len(ids),
            offset=offset,
            page_size=PAGE_SIZE,
            first=ids[0] if ids else None,
            counts=bench.counts(),
            documents=sorted({p.document for p in run.pages.values()}),
            reviewers=store.reviewers(),
        )

    async def detail_page(request: Request) -> HTMLResponse:
        did = request.path_params["did"]
        if did not in run.discrepancies:
            return HTMLResponse("no such discrepancy", 404)
        filters = _filters(request)
        at, ids = bench.position(filters, did)
        prev_id = ids[at - 1] if at > 0 else None
        next_id = ids[at + 1] if 0 <= at < len(ids) - 1 else None
        return render(
            request,
            "detail.html.j2",
            filters=filters,
            position=at + 1,
            total=len(ids),
            prev_id=prev_id,
            next_id=next_id,
            **bench.detail(did),
        )

    async def page_view(request: Request) -> HTMLResponse:
        index = request.path_params["index"]
        if not 0 <= index < len(bench.page_keys):
            return HTMLResponse("no such page", 404)
        page = run.pages[bench.page_keys[index]]
        states = bench.states()
        width, height = page.size
        boxes = [
            (d, states[d["id"]].status if d["id"] in states else "open")
            for d in page.discrepancies
            if d.get("bbox")
        ]
        return render(
            request,
            "page.html.j2",
            page=page,
            index=index,
            width=width,
            height=height,
            boxes=boxes,
            filters=_filters(request),
            counts=bench.counts()["pages"][page.key],
        )

    async def image(request: Request) -> Any:
        index = request.path_params["index"]
        if not 0 <= index < len(bench.page_keys):
            return PlainTextResponse("no such page", 404)
        page = run.pages[bench.page_keys[index]]
        if page.image is None:
            return PlainTextResponse("this page has no image", 404)
        return FileResponse(page.image, headers={"Cache-Control": "private, max-age=3600"})

    async def api_queue(request: Request) -> JSONResponse:
        filters = _filters(request)
        ids = bench.queue(filters)
        states = bench.states()
        return JSONResponse(
            {
                "total": len(ids),
                "ids": ids,
                "items": [
                    _item(run.discrepancies[i], states.get(i))
                    for i in ids[: int(request.query_params.get("limit", 50))]
                ],
                "counts": bench.counts(),
            }
        )

    async def api_discrepancy(request: Request) -> JSONResponse:
        did = request.path_params["did"]
        if did not in run.discrepancies:
            return JSONResponse({"error": f"no discrepancy {did}"}, 404)
        state = store.state(did)
        item = _item(run.discrepancies[did], state)
        item["context"] = run.context(run.discrepancies[did])
        return JSONResponse(item)

    async def api_decide(request: Request) -> JSONResponse:
        try:
            body = await request.json()
            did = str(body["id"])
            action = str(body["action"])
            version = int(body["version"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "expected JSON with id, action, version, reviewer"}, 400)
        if did not in run.discrepancies:
            return JSONResponse({"error": f"no discrepancy {did}"}, 404)
        try:
            decision = store.decide(
                run.discrepancies[did],
                action,
                reviewer=str(body.get("reviewer", "")),
                seen_version=version,
                reading=str(body.get("reading", "")),
                comment=str(body.get("comment", "")),
            )
        except Conflict as exc:
            return JSONResponse({"error": str(exc), "current_version": exc.current}, 409)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        state = store.last_state
        return JSONResponse({"id": did, "version": decision.version, "status": state.status if state else ""})

    async def api_export(request: Request) -> JSONResponse:
        started = time.perf_counter()
        summary = await run_in_threadpool(review_export.export, run, store)  # the server answers meanwhile
        summary["seconds"] = round(time.perf_counter() - started, 3)
        return JSONResponse(summary)

    routes = [
        Route("/", queue_page),
        Route("/d/{did:str}", detail_page),
        Route("/page/{index:int}", page_view),
        Route("/image/{index:int}", image),
        Route("/api/queue", api_queue),
        Route("/api/d/{did:str}", api_discrepancy),
        Route("/api/decide", api_decide, methods=["POST"]),
        Route("/api/export", api_export, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(Security, token=token)])
    app.state.workbench = bench
    return app


# Scripts only from this server, nothing inline; images from here; no framing by other sites.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _item(d: dict[str, Any], state: State | None) -> dict[str, Any]:
    current = state.current if state else None
    return {
        "id": d["id"],
        "document": d["document"],
        "page": d["page"],
        "kind": d["kind"],
        "ocr_text": d["ocr_text"],
        "transcript_text": d["transcript_text"],
        "confidence": d.get("confidence"),
        "reason": d.get("reason"),
        "status": state.status if state else "open",
        "version": state.version if state else 0,
        "reviewer": current.reviewer if current else "",
        "reading": current.reading if current else "",
        "comment": current.comment if current else "",
    }
