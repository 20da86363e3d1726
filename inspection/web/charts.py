"""Charts drawn on the server as SVG: no script, readable on a tablet and in print.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that say in words what
it shows, so a screen reader (and a printout without colour) loses nothing. Colours and fonts
come from classes styled in office.css (the CSP allows no inline style).
"""
from __future__ import annotations

import itertools

from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup, escape

_ids = itertools.count(1)
CLASS_LINES = (90, 80, 70)


def _num(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0." + "0" * decimals if decimals else "#,##0")


def _svg(width: int, height: int, title: str, desc: str, body: list[str], css: str) -> Markup:
    n = next(_ids)
    return Markup(
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart{n}-title chart{n}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart{n}-title">{escape(title)}</title><desc '
        f'id="chart{n}-desc">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def ranking_chart(rows: list[dict], locale: str, total: int | None = None) -> Markup | None:
    """Horizontal bars of the ranked units' percents, coloured by class, with the class
    thresholds as lines and the previous result as a tick. `rows` are every ranked unit, or the
    best and the worst halves of them when there are `total` in all: a gap marks the others."""
    if not rows:
        return None
    shown = rows
    total = total or len(rows)
    label_w, bar_w, row_h, top = 230, 520, 24, 28
    width = label_w + bar_w + 80
    height = top + row_h * len(shown) + 10 + (row_h if len(shown) < total else 0)

    def x(percent: float) -> float:
        return label_w + bar_w * max(0.0, min(100.0, percent)) / 100

    body = [f'<text class="axis" x="{x(p):.1f}" y="16" text-anchor="middle">{p}%</text>'
            for p in (0, 50, *CLASS_LINES, 100)]
    body += [f'<line class="threshold" x1="{x(p):.1f}" x2="{x(p):.1f}" y1="22" y2="{height - 6}"/>'
             for p in CLASS_LINES]
    y = top
    for index, row in enumerate(shown):
        if len(shown) < total and index == len(shown) // 2:
            body.append(f'<text class="gap" x="{label_w}" y="{y + 16}">… {total - len(shown)} '
                        f'{escape(_("đơn vị khác"))} …</text>')
            y += row_h
        code = (row["class"] or {}).get("code", "none")
        body.append(f'<text class="label" x="{label_w - 8}" y="{y + 16}" text-anchor="end">'
                    f'{row["rank"]}. {escape(row["unit"]["full_name"])}</text>')
        body.append(f'<rect class="bar bar-{escape(code)}" x="{label_w}" y="{y + 4}" '
                    f'width="{x(row["percent"]) - label_w:.1f}" height="{row_h - 8}"/>')
        end = x(row["percent"])
        if row.get("previous") is not None:
            px = x(row["previous"])
            body.append(f'<line class="previous" x1="{px:.1f}" x2="{px:.1f}" y1="{y + 1}" '
                        f'y2="{y + row_h - 1}"/>')
            end = max(end, px)
        body.append(f'<text class="value" x="{end + 6:.1f}" '
                    f'y="{y + 16}">{_num(row["percent"])}</text>')
        y += row_h
    best, worst = rows[0], rows[-1]
    desc = _("%(count)s đơn vị được xếp hạng; cao nhất %(best)s "
             "(%(best_percent)s%%), thấp nhất %(worst)s "
             "(%(worst_percent)s%%). Vạch đứng: ngưỡng xếp loại 90, 80, 70%%; vạch ngắn: kết quả "
             "lần kiểm tra trước.",
             count=total, best=best["unit"]["full_name"], best_percent=_num(best["percent"]),
             worst=worst["unit"]["full_name"], worst_percent=_num(worst["percent"]))
    return _svg(width, height, _("Tỷ lệ điểm đạt được của các đơn vị"), desc, body, "ranking-chart")


def indicator_chart(summary: list[dict], locale: str) -> Markup | None:
    """One bar per key indicator: the mean over units, the target as a marker, and how many
    units meet it."""
    present = [s for s in summary if s["mean"] is not None]
    if not present:
        return None
    label_w, bar_w, row_h, top = 260, 420, 44, 28
    width = label_w + bar_w + 170
    height = top + row_h * len(present) + 6

    def x(percent: float) -> float:
        return label_w + bar_w * max(0.0, min(100.0, percent)) / 100

    body = [f'<text class="axis" x="{x(p):.1f}" y="16" '
            f'text-anchor="middle">{p}%</text>' for p in (0, 50, 100)]
    parts = []
    y = top
    for item in present:
        title = item["title_en"] if locale == "en" else item["title_vi"]
        met = item["target"] is not None and item["mean"] >= item["target"]
        state = "met" if met else ("unmet" if item["target"] is not None else "none")
        body.append(f'<text class="label" x="{label_w - 8}" y="{y + 20}" '
                    f'text-anchor="end">{escape(title)}</text>')
        body.append(f'<rect class="track" x="{label_w}" y="{y + 6}" width="{bar_w}" height="20"/>')
        body.append(f'<rect class="bar ind-{state}" x="{label_w}" y="{y + 6}" '
                    f'width="{x(item["mean"]) - label_w:.1f}" height="20"/>')
        note = _num(item["mean"]) + "%"
        if item["target"] is not None:
            tx = x(item["target"])
            body.append(f'<line class="target" x1="{tx:.1f}" x2="{tx:.1f}" '
                        f'y1="{y + 1}" y2="{y + 31}"/>')
            note += " · " + _("%(met)s/%(judged)s đạt ≥ %(target)s%%", met=item["met"],
                              judged=item["judged"], target=_num(item["target"], 0))
            parts.append(_("%(title)s: trung bình %(mean)s%%, mục tiêu %(target)s%%, "
                           "%(met)s/%(judged)s đơn vị đạt",
                           title=title, mean=_num(item["mean"]), target=_num(item["target"], 0),
                           met=item["met"], judged=item["judged"]))
        else:
            parts.append(_("%(title)s: trung bình %(mean)s%% (không có mục tiêu)", title=title,
                           mean=_num(item["mean"])))
        body.append(f'<text class="value" x="{label_w + bar_w + 8}" '
                    f'y="{y + 20}">{escape(note)}</text>')
        y += row_h
    return _svg(width, height, _("Chỉ tiêu so với mục tiêu (trung bình các đơn vị)"),
                "; ".join(parts) + ".", body, "indicator-chart")
