"""The reviewers' workbench: decide every discrepancy of an aligned run in the browser.

ids.py       stable discrepancy ids (page identity, offsets, both readings)
run.py       the run folder as the workbench sees it: pages, images, texts, discrepancies with ids
store.py     decisions in a database (SQLite or PostgreSQL), append-only, Alembic migrations
app.py       the web app (Starlette, Jinja templates), its security (token, CSRF, escaping)
export.py    what decisions produce: reviewed text, ALTO / PAGE-XML, errata, decisions.jsonl
feedback.py  confirmed words and misreadings into the collection lexicon
"""
