"""View models and their static renderings (text, escaped HTML), pure: no engine, no shell."""
from __future__ import annotations

import html.parser
import json

import pytest

from nbdocker.views import render as views
from nbdocker.views.results import Display, IdList, mimebundle

EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&"


def tabwriter(rows: list[list[str]], minwidth: int = 10, padding: int = 3) -> str:
    """The docker CLI's table layout: Go's tabwriter.NewWriter(out, 10, 1, 3, ' ', 0).

    Every cell but the last of a line is tab-terminated, so it belongs to a column whose width is
    max(minwidth, widest cell + padding); the last cell is not padded.
    """
    columns = len(rows[0]) - 1
    widths = [max(minwidth, max(len(r[i]) for r in rows) + padding) for i in range(columns)]
    return "\n".join("".join(r[i].ljust(widths[i]) for i in range(columns)) + r[-1] for r in rows)


class TagCollector(html.parser.HTMLParser):
    """Every tag and attribute of an HTML snapshot, to prove no script can come from data."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def parse_html(markup: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(markup)
    collector.close()
    return collector


SAFE_TAGS = {"style", "div", "table", "thead", "tbody", "tr", "th", "td", "span", "details", "summary",
             "pre", "code"}


def assert_script_free(markup: str, data: str = EVIL) -> None:
    """No element or attribute a browser would run; the data shows as text, intact."""
    parsed = parse_html(markup)
    assert set(parsed.tags) <= SAFE_TAGS, set(parsed.tags) - SAFE_TAGS
    for name, value in parsed.attrs:
        assert not name.startswith("on"), name
        assert name in ("class", "title", "style", "data-state", "open"), name
        if name == "style":
            assert value is not None and "<" not in value and "url" not in value
    assert data in "".join(parsed.text) or any(data == v for _, v in parsed.attrs)


def table(rows: list[dict], **kw) -> views.TableView:
    columns = [views.Column("repository", "REPOSITORY"), views.Column("tag", "TAG"),
               views.Column("id", "IMAGE ID"), views.Column("size", "SIZE", numeric=True)]
    return views.TableView("images", columns, rows, **kw)


ROWS = [
    {"repository": "busybox", "tag": "latest", "id": "ae12487c27f9", "size": "1.98MB"},
    {"repository": "localhost:5000/some/long-name", "tag": "v1", "id": "8cfb134022d8", "size": "3B"},
]


# ---------------------------------------------------------------- text


def test_table_text_has_the_header_and_every_cell():
    text = views.render_text(table(ROWS))
    lines = text.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "SIZE"]
    assert lines[1].split() == ["busybox", "latest", "ae12487c27f9", "1.98MB"]
    assert lines[2].split() == ["localhost:5000/some/long-name", "v1", "8cfb134022d8", "3B"]
    # columns start at the same offset on every line
    for title, cells in (("TAG", ("latest", "v1")), ("IMAGE ID", ("ae12487c27f9", "8cfb134022d8"))):
        start = lines[0].index(title)
        assert [line.index(cell) for line, cell in zip(lines[1:], cells)] == [start, start]
    assert all(line == line.rstrip() for line in lines)


def test_table_text_is_laid_out_like_the_cli_tabwriter():
    view = table(ROWS)
    cells = [[c.title for c in view.columns]] + [[r[c.key] for c in view.columns] for r in ROWS]
    assert views.render_text(view) == tabwriter(cells)


def test_tabwriter_model_reproduces_a_real_cli_table():
    """The layout the test above expects, checked on text `docker images` printed on this engine."""
    cli = ("REPOSITORY   TAG       IMAGE ID       CREATED                  SIZE\n"
           "nbdprobe-a   other     8cfb134022d8   Less than a second ago   1.98MB\n"
           "nbdprobe-a   bk        1c6468e3fa25   13 seconds ago           1.98MB")
    cells = [line.split("   ") for line in cli.splitlines()]
    cells = [[c.strip() for c in row if c.strip()] for row in cells]
    assert tabwriter(cells) == cli


def test_table_title_footer_and_empty():
    text = views.render_text(table(ROWS, title="my images", footer="2 images"))
    assert text.splitlines()[0] == "my images"
    assert text.splitlines()[-1] == "2 images"
    assert views.render_text(table([], empty="no images")) == "no images"
    assert views.render_text(table([])).split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "SIZE"]


def test_lines_and_inspect_text():
    lines = views.LinesView("rmi", [("ok", "Untagged: a:1"), ("error", "Error: nope")], title="rmi")
    assert views.render_text(lines) == "rmi\nUntagged: a:1\nError: nope"
    item = {"Id": "sha256:abc", "Config": {"Labels": {"x": EVIL}}}
    inspect = views.InspectView("inspect", [item])
    assert json.loads(views.render_text(inspect)) == [item]


# ---------------------------------------------------------------- HTML


def test_table_html_escapes_every_cell_and_tooltip():
    rows = [dict(ROWS[0], repository=EVIL, id__title=EVIL, size_bytes=5),
            dict(ROWS[1], size_bytes=0)]
    markup = views.render_html(table(rows, title=EVIL, footer=EVIL, bar="size_bytes"))
    assert "<script>" not in markup and "<img" not in markup
    assert_script_free(markup)
    parsed = parse_html(markup)
    assert ("title", EVIL) in parsed.attrs
    assert "".join(parsed.text).count(EVIL) == 3  # title, cell, footer
    assert 'style="width:120px"' in markup and 'style="width:0px"' in markup


def test_lines_html_escapes_and_marks_errors():
    markup = views.render_html(views.LinesView("rmi", [("ok", EVIL), ("error", EVIL)], title=EVIL))
    assert_script_free(markup)
    assert markup.count('class="nbd-error"') == 1
    assert "".join(parse_html(markup).text).count(EVIL) == 3


def test_inspect_html_escapes_keys_values_and_summary():
    item = {"Id": "sha256:abc", EVIL: [EVIL, {"k": EVIL}], "Config": {"Labels": {EVIL: EVIL}}}
    markup = views.render_html(views.InspectView("inspect", [item], [[("Labels", EVIL)]]))
    assert "<script>" not in markup
    assert_script_free(markup)
    assert "".join(parse_html(markup).text).count("alert(1)") >= 5


def test_build_views_escape_everything():
    step = views.StepView(key="1", name=EVIL, state="failed", seconds=1.5, lines="2", source=EVIL,
                          log_tail=[(1, EVIL), (2, EVIL)], log_lines=40, error=EVIL)
    view = views.BuildView(kind="build", builder="buildkit", state="failed", steps=[step], done=1,
                           total=2, cached=0, seconds=2.0, image_id=None, tags=[EVIL],
                           warnings=[EVIL], error=EVIL, notes=[EVIL])
    markup = views.render_html(view)
    assert "<script>" not in markup
    assert_script_free(markup)
    text = views.render_text(view)
    assert "FAILED" in text and "line 2" in text and EVIL in text


def test_kind_is_escaped_in_the_class_attribute():
    markup = views.render_html(views.LinesView('x" onmouseover="alert(1)', []))
    assert_script_free(markup, data="")
    assert "onmouseover" not in {name for name, _ in parse_html(markup).attrs}


# ---------------------------------------------------------------- mimebundles


@pytest.fixture
def display_mode():
    before = Display.mode
    yield lambda mode: setattr(Display, "mode", mode)
    Display.mode = before


def test_mimebundle_modes_and_include_exclude(display_mode):
    view = table(ROWS)
    display_mode("html")
    bundle = mimebundle(view)
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"] == views.render_text(view)
    assert mimebundle(view, include=["text/plain"]) == {"text/plain": bundle["text/plain"]}
    assert set(mimebundle(view, exclude=["text/html"])) == {"text/plain"}
    display_mode("text")
    assert set(mimebundle(view)) == {"text/plain"}


def test_id_list_is_a_list_shown_as_one():
    ids = IdList(["ae12487c27f9", "8cfb134022d8"])
    assert isinstance(ids, list) and ids == ["ae12487c27f9", "8cfb134022d8"]
    assert ids._repr_mimebundle_() == {"text/plain": "['ae12487c27f9', '8cfb134022d8']"}
    assert repr(ids) == "IdList(['ae12487c27f9', '8cfb134022d8'])"
