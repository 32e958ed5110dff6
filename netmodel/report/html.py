"""One self-contained HTML file: inline CSS, diagrams as data URIs, tables sortable by a few lines of inline JS.

No external asset, font or script is referenced, so the file can be mailed, attached to a CI run or opened
offline. The markup is also well-formed XML (the script sits in a CDATA block), which the tests use to parse it
strictly.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape
from typing import Any

from netmodel.report.sections import Headline, Payload, Section, headline_and_sections

MIME = {"png": "image/png", "svg": "image/svg+xml"}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#1d2430;max-width:1400px}
h1 .status{padding:.1em .5em;border-radius:.3em;color:#fff;font-size:.8em}
.pass,.allowed{background:#2e7d32}.fail,.denied{background:#c62828}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em;width:100%}
th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f5f7;cursor:pointer;user-select:none;white-space:nowrap}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
tr.error td{background:#fdecea}tr.warning td{background:#fff8e1}tr.ok td{background:#f1f8f1}
tr.info td{background:#eef4fb}
.figures img{max-width:100%;border:1px solid #d0d7de;margin:.5em 0}
.empty{color:#57606a;font-style:italic}
"""

# Sort a table by the clicked column; numbers numerically, the rest as text. Written without "<" or "&" so the
# page stays well-formed XML.
SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0], col = th.cellIndex;
    var asc = !th.classList.contains("sorted-asc");
    table.querySelectorAll("th").forEach(function (h) { h.classList.remove("sorted-asc", "sorted-desc"); });
    th.classList.add(asc ? "sorted-asc" : "sorted-desc");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].textContent, y = b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""


def data_uri(image: bytes, fmt: str) -> str:
    """An image as a ``data:`` URI, to embed in the HTML report."""
    return f"data:{MIME[fmt]};base64,{base64.b64encode(image).decode('ascii')}"


def render_headline(head: Headline) -> list[str]:
    """The HTML of a report's title, status and summary figures."""
    status = f' <span class="status {escape(head.status)}">{escape(head.status.upper())}</span>' \
        if head.status else ""
    out = [f"<h1>{escape(head.title)}{status}</h1>"]
    if head.figures:
        out.append('<table class="figures-summary"><thead><tr>'
                   + "".join(f"<th>{escape(k)}</th>" for k, _ in head.figures) + "</tr></thead><tbody><tr>"
                   + "".join(f"<td>{escape(v)}</td>" for _, v in head.figures) + "</tr></tbody></table>")
    return out


def render_section(section: Section) -> list[str]:
    """The HTML of one section: a sortable table, or its empty text."""
    out = [f"<h2>{escape(section.title)}</h2>"]
    if section.intro:
        out.append(f"<p>{escape(section.intro)}</p>")
    if not section.rows:
        return out + [f'<p class="empty">{escape(section.empty)}</p>']
    out.append('<table class="sortable"><thead><tr>'
               + "".join(f"<th>{escape(c)}</th>" for c in section.columns) + "</tr></thead><tbody>")
    for i, row in enumerate(section.rows):
        tone = section.tones[i] if i < len(section.tones) else ""
        attr = f' class="{tone}"' if tone else ""
        out.append(f"<tr{attr}>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>")
    out.append("</tbody></table>")
    return out


def render_html(payload: Payload, kind: str = "check",
                figures: Mapping[str, tuple[bytes, str]] | None = None, **_options: Any) -> str:
    """``figures`` maps a caption to (image bytes, ``png`` or ``svg``); each is embedded as a data URI. Without
    ``figures``, the diagrams the payload alone gives are drawn (``{}`` for none)."""
    if figures is None:  # draw what the payload alone allows (port heat map, connectivity matrix)
        from netmodel.report.figures import payload_figures

        figures = payload_figures(payload, kind)
    head, sections = headline_and_sections(payload, kind)
    body = render_headline(head)
    if figures:
        body.append('<h2>Diagrams</h2><div class="figures">')
        for caption, (image, fmt) in figures.items():
            body.append(f'<figure><img alt="{escape(caption)}" src="{data_uri(image, fmt)}"/>'
                        f"<figcaption>{escape(caption)}</figcaption></figure>")
        body.append("</div>")
    for section in sections:
        body += render_section(section)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"/>',
        f"<title>{escape(head.title)}: {escape(head.status)}</title>",
        f"<style>{STYLE}</style></head><body>",
        *body,
        f"<script>//<![CDATA[{SCRIPT}//]]></script>",
        "</body></html>",
    ]) + "\n"


__all__ = ["data_uri", "render_html"]
