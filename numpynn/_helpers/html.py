"""Small HTML tables for Jupyter's rich display (``_repr_html_``), every cell escaped.

Jupyter shows an object's ``_repr_html_()`` in place of its ``repr``; numpynn's objects return
one compact table built here, never a printed dump. Cells are escaped with :func:`html.escape`,
so a layer or class name such as ``<b>`` shows as text.

>>> html_table(("name", "value"), [("lr", "<0.1>")])
'<table><thead><tr><th>name</th><th>value</th></tr></thead><tbody><tr><td>lr</td><td>&lt;0.1&gt;</td></tr></tbody></table>'
"""
from html import escape


def _row(cells, tag):
    return "<tr>" + "".join(f"<{tag}>{escape(str(c))}</{tag}>" for c in cells) + "</tr>"


def html_table(header, rows, caption=None, footer=None):
    """An HTML ``<table>``: ``header`` cells, one ``<tr>`` per row, an optional caption on top
    and a footer line below (both escaped too)."""
    head = f"<caption>{escape(caption)}</caption>" if caption else ""
    body = "".join(_row(r, "td") for r in rows)
    foot = f"<tfoot><tr><td colspan=\"{len(header)}\">{escape(footer)}</td></tr></tfoot>" \
        if footer else ""
    return (f"<table>{head}<thead>{_row(header, 'th')}</thead><tbody>{body}</tbody>"
            f"{foot}</table>")


def html_sections(*parts):
    """Several tables (or headings) one below the other in one ``<div>``."""
    return "<div>" + "".join(parts) + "</div>"


def html_heading(text):
    """A small bold heading line, escaped."""
    return f"<p><b>{escape(text)}</b></p>"
