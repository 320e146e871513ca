"""The evaluation as a terminal summary and as one self-contained HTML file a marketing manager can read.

Headline numbers first, one chart per question (inline SVG: no script, no external asset), and under each
chart one sentence on what it means and one on what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from leadscore_cli.evaluation.advice import Advice, HalfLifeSearch
from leadscore_cli.evaluation.metrics import RuleLift
from leadscore_cli.evaluation.results import Evaluation
from leadscore_cli.evaluation.svg import bar_chart, grid_chart, line_chart

ATHENA_USD_PER_TB = 5.0  # Athena's price per TB scanned in most regions


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def num(value: float | None, places: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{places}f}"


def auc_verdict(auc: float | None) -> str:
    if auc is None:
        return "cannot be measured yet: the ledger needs both accepted and not-accepted leads"
    if auc >= 0.8:
        return "ranks leads well"
    if auc >= 0.7:
        return "ranks leads usefully, with room to improve"
    if auc >= 0.6:
        return "ranks leads weakly"
    return "ranks leads barely better than chance"


def headline(evaluation: Evaluation) -> list[tuple[str, str]]:
    e = evaluation
    rows = [
        ("Leads evaluated", f"{len(e.leads):,} ({e.accepted:,} accepted by sales, base rate {pct(e.base_rate)})"),
        ("ROC AUC (accepted)", f"{num(e.auc)}: the model {auc_verdict(e.auc)}"),
    ]
    if e.oracle_auc is not None:
        rows.append(("Oracle AUC (true probabilities)", f"{num(e.oracle_auc)}: the best any model could do here"))
    rows += [
        ("ROC AUC (won)", num(e.auc_won)),
        (
            "Revenue won",
            f"{e.revenue_won:,.0f}, of which {pct(e.revenue_in_top_30)} from the best-scored 30% of leads",
        ),
        ("Top-decile lift", f"{num(e.top_decile_lift, 1)}x the base rate"),
        ("At MQL", f"precision {pct(e.at_mql.precision)}, recall {pct(e.at_mql.recall)} ({e.at_mql.flagged:,} leads)"),
        ("At SQL", f"precision {pct(e.at_sql.precision)}, recall {pct(e.at_sql.recall)} ({e.at_sql.flagged:,} leads)"),
        ("New MQL / SQL per week", f"{e.mql_per_week:.1f} / {e.sql_per_week:.1f} over {e.weeks} weeks"),
        (
            "First touch to SQL",
            f"median {num(e.to_sql.median, 0)} days (middle half {num(e.to_sql.p25, 0)} to {num(e.to_sql.p75, 0)}),"
            f" {e.to_sql.leads:,} leads",
        ),
    ]
    return rows


def _lift(rule: RuleLift) -> str:
    return "n/a" if rule.lift is None else f"{rule.lift:.1f}x"


def strongest_and_weakest(rules: Sequence[RuleLift], count: int = 3) -> tuple[list[RuleLift], list[RuleLift]]:
    """Rules that hit at least 5 leads, by lift: the `count` best and the `count` worst."""
    usable = [rule for rule in rules if rule.leads_hit >= 5 and rule.lift is not None]
    return usable[:count], list(reversed(usable[-count:])) if len(usable) > count else []


def _advice_line(advice: Advice) -> str:
    b, a = advice.before, advice.after
    return (
        f"{advice.what}: {advice.current} → {advice.advised} ({advice.reason}); would have changed "
        f"MQL/week {b.mql_per_week:.1f} → {a.mql_per_week:.1f}, SQL/week {b.sql_per_week:.1f} → {a.sql_per_week:.1f}, "
        f"acceptance at SQL {pct(b.acceptance)} → {pct(a.acceptance)}, AUC {num(b.auc)} → {num(a.auc)}"
    )


def summary(
    evaluation: Evaluation,
    advice: Sequence[Advice] = (),
    half_lives: HalfLifeSearch | None = None,
    *,
    more: Sequence[str] = (),
) -> str:
    """The terminal summary: headline numbers, strongest and weakest rules, advice."""
    lines = [f"Evaluation of model {evaluation.model_id} {evaluation.model_version} ({evaluation.engine})"]
    width = max(len(label) for label, _ in headline(evaluation))
    lines += [f"  {label.ljust(width)}  {value}" for label, value in headline(evaluation)]
    best, worst = strongest_and_weakest(evaluation.rules)
    if best:
        lines.append("  Most lift:  " + ", ".join(f"{rule.rule} {_lift(rule)}" for rule in best))
    if worst:
        lines.append("  Least lift: " + ", ".join(f"{rule.rule} {_lift(rule)}" for rule in worst))
    scanned = evaluation.extra.get("athena_scanned_bytes")
    if scanned is not None:
        lines.append(f"  Athena scanned {scanned / 1e6:,.1f} MB (about {scanned / 1e12 * ATHENA_USD_PER_TB:.4f} USD)")
    lines += [f"  Advice: {_advice_line(item)}" for item in advice]
    if half_lives is not None:
        for rule, tried in half_lives.tried.items():
            verdict = f"→ {half_lives.chosen[rule]:g} d" if rule in half_lives.chosen else "kept"
            aucs = ", ".join(f"{days:g} d {num(auc, 3)}" for days, auc in sorted(tried.items()))
            lines.append(f"  Half-life of {rule} {verdict} (AUC by half-life: {aucs})")
    lines += more  # e.g. the predictive model's block (predictive_report.summary_lines)
    return "\n".join(lines)


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2937;max-width:760px;margin:2rem auto;
padding:0 1rem;line-height:1.45}h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2.2rem}
.sub{color:#6b7280;margin-top:0}table{border-collapse:collapse;width:100%;font-size:.92rem}
td,th{border-bottom:1px solid #e5e7eb;padding:.35rem .5rem;text-align:left}th{background:#f9fafb}
td.n{text-align:right;font-variant-numeric:tabular-nums}.chart{width:100%;height:auto;margin:.5rem 0}
.means{margin:.2rem 0}.todo{margin:.2rem 0 1rem;color:#065f46}.kpi td:first-child{font-weight:600;width:38%}
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{escape(cell)}</td>' if index >= numeric_from else f"<td>{escape(cell)}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _explain(means: str, todo: str) -> str:
    return f'<p class="means">{escape(means)}</p><p class="todo"><strong>What to do:</strong> {escape(todo)}</p>'


def render_html(
    evaluation: Evaluation,
    advice: Sequence[Advice] = (),
    half_lives: HalfLifeSearch | None = None,
    *,
    sections: Sequence[str] = (),
) -> str:
    """The whole report as one HTML document (UTF-8, no external references)."""
    e = evaluation
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>leadscore evaluation: {escape(e.model_id)}</title><style>{CSS}</style></head><body>",
        f"<h1>Is model <em>{escape(e.model_id)}</em> any good?</h1>",
        f"<p class='sub'>Version {escape(e.model_version)} · {escape(e.engine)} · generated "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · a lead counts as converted when sales accepted it</p>",
        "<table class='kpi'>" + "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in headline(e)),
        "</table>",
    ]
    parts += _lift_section(e) + _band_section(e) + _weekly_section(e) + _calibration_section(e) + _rules_section(e)
    parts += _advice_section(advice, half_lives)
    parts += sections  # e.g. the predictive model's section (predictive_report.html_section)
    parts.append(
        "<h2>How these numbers are made</h2><p>Each lead is scored as it stood just before its first outcome "
        "(sales accepted or rejected it, a deal was won or lost), or at its last event when it has none, so no "
        "number uses what sales already knew. AUC is the chance that a random accepted lead scored above a random "
        "other lead (0.5 is a coin toss, 1.0 perfect). Scores come from the ledger: decay between two events is "
        "in them, decay after a lead's last event is not.</p></body></html>"
    )
    return "".join(parts)


def _lift_section(e: Evaluation) -> list[str]:
    labels = [f"D{d.decile}" for d in e.deciles]
    gains = [d.cumulative_share_of_conversions or 0.0 for d in e.deciles]
    top = e.deciles[0] if e.deciles else None
    top_three = gains[2] if len(gains) >= 3 else None
    return [
        "<h2>Do high scores convert? (lift by decile)</h2>",
        bar_chart(labels, [d.rate for d in e.deciles], title="Acceptance rate by score decile (D1 = best-scored "
                  "tenth)", y_label="accepted", percent=True, reference=e.base_rate, reference_label="all leads"),
        line_chart(labels, [("share of all accepted leads", gains)], title="Cumulative gains", y_label="found",
                   percent=True, diagonal=True),
        _explain(
            f"The best-scored tenth of leads converts at {pct(top.rate if top else None)}, "
            f"{num(e.top_decile_lift, 1)} times the average; the top three tenths hold {pct(top_three)} of all "
            "accepted leads (the dashed diagonal is what random scores would find).",
            "If the bars do not fall from left to right, the score does not rank buyers: look at the rules with "
            "the least lift below. If they do, route the top deciles to sales first.",
        ),
        _table(["decile", "leads", "accepted", "rate", "lift"],
               [[f"D{d.decile}", f"{d.leads:,}", f"{d.converted:,}", pct(d.rate), num(d.lift, 1)] for d in e.deciles]),
    ]  # fmt: skip


def _band_section(e: Evaluation) -> list[str]:
    cells = {key: (rate.rate, rate.leads) for key, rate in e.cells.items()}
    best = max(e.by_band.items(), key=lambda item: (item[1].rate or 0.0, item[1].leads), default=None)
    return [
        "<h2>Which bands convert? (fit by engagement)</h2>",
        grid_chart(e.fit_bands, e.engagement_bands, cells, title="Acceptance rate by band"),
        _explain(
            f"Each cell is the share of its leads that sales accepted; the best band is "
            f"{best[0] if best else 'n/a'} at {pct(best[1].rate if best else None)}. Good fit with high engagement "
            "(top left) should be darkest.",
            "Send the darkest cells to sales, nurture the middle, and if a low-fit cell converts well your fit "
            "rules miss a segment that buys.",
        ),
    ]


def _weekly_section(e: Evaluation) -> list[str]:
    labels = [f"{week:%d %b}" for week, _, _ in e.weekly]
    return [
        "<h2>How many MQLs and SQLs a week?</h2>",
        line_chart(labels, [("new MQL", [float(m) for _, m, _ in e.weekly]),
                            ("new SQL", [float(s) for _, _, s in e.weekly])],
                   title="Leads entering MQL and SQL per week", y_label="leads"),
        _explain(
            f"On average {e.mql_per_week:.1f} leads a week became MQL and {e.sql_per_week:.1f} became SQL "
            "(each lead counted once per stage, in the week it first got there).",
            "If sales cannot follow up this many SQLs, raise the SQL threshold; if they are starved, lower it. "
            "The advice below gives the threshold for a target and what it would have changed.",
        ),
    ]  # fmt: skip


def _calibration_section(e: Evaluation) -> list[str]:
    stages = [item for item in e.calibration if item.leads]
    return [
        "<h2>Does the stage mean what it says? (calibration)</h2>",
        bar_chart([item.stage for item in stages], [item.acceptance or 0.0 for item in stages],
                  title="Acceptance rate by stage at the time of the outcome", y_label="accepted", percent=True,
                  reference=e.base_rate, reference_label="all leads"),
        _explain(
            "Acceptance should rise from LEAD to MQL to SQL. " + ", ".join(
                f"{item.stage}: {pct(item.acceptance)} of {item.leads:,}" for item in stages) + ".",
            "If MQL and SQL convert alike, the SQL threshold adds nothing; if SQL converts below MQL, the points "
            "that push leads to SQL come from the wrong activity (check machine opens and scanner clicks).",
        ),
        _table(["stage", "leads", "accepted", "rejected", "won"],
               [[i.stage, f"{i.leads:,}", f"{i.accepted:,}", f"{i.rejected:,}", f"{i.won:,}"] for i in stages]),
    ]  # fmt: skip


def _rules_section(e: Evaluation) -> list[str]:
    rows = [
        [rule.rule, f"{rule.leads_hit:,}", pct(rule.rate_hit), pct(rule.rate_not), _lift(rule), f"{rule.points:,.0f}"]
        for rule in e.rules
    ]
    best, worst = strongest_and_weakest(e.rules)
    return [
        "<h2>Which rules carry the lift?</h2>",
        _explain(
            "Lift is the acceptance rate of leads a rule hit over that of leads it did not hit. Most: "
            + (", ".join(f"{r.rule} ({_lift(r)})" for r in best) or "n/a")
            + ". Least: "
            + (", ".join(f"{r.rule} ({_lift(r)})" for r in worst) or "n/a")
            + ".",
            "Give more points to rules with high lift and few points, fewer (or none) to rules near 1.0x or below; "
            "negative fit rules should show lift well below 1.",
        ),
        _table(["rule", "leads hit", "accepted if hit", "if not", "lift", "points given"], rows),
    ]


def _advice_section(advice: Sequence[Advice], half_lives: HalfLifeSearch | None) -> list[str]:
    parts = ["<h2>Advice, backtested on this ledger</h2>"]
    if not advice:
        parts.append("<p>No target given: run with <code>--target-mql-per-week N</code> or "
                     "<code>--target-acceptance 0.6</code> for threshold advice.</p>")  # fmt: skip
    rows = []
    for item in advice:
        b, a = item.before, item.after
        rows.append([item.what, f"{item.current} → {item.advised}", f"{b.mql_per_week:.1f} → {a.mql_per_week:.1f}",
                     f"{b.sql_per_week:.1f} → {a.sql_per_week:.1f}", f"{pct(b.acceptance)} → {pct(a.acceptance)}",
                     f"{num(b.auc)} → {num(a.auc)}"])  # fmt: skip
    if rows:
        parts.append(_table(["change", "from → to", "MQL/week", "SQL/week", "acceptance at SQL", "AUC"], rows, 2))
        parts += [f"<p class='means'>{escape(item.what)}: {escape(item.reason)}.</p>" for item in advice]
    if half_lives is not None:
        tried = [
            [rule, ", ".join(f"{days:g} d: {num(auc, 3)}" for days, auc in sorted(results.items()))]
            for rule, results in half_lives.tried.items()
        ]
        if tried:
            parts.append(
                "<h3>Half-lives tried (AUC of each replay)</h3>" + _table(["rule", "half-life: AUC"], tried, 9)
            )
        if not half_lives.chosen:
            parts.append("<p>No other half-life ranks the accepted leads better: keep the current ones.</p>")
    parts.append(_explain(
        "Each row is what the change would have done to the same leads and outcomes: thresholds move volume and "
        "acceptance, half-lives change the scores themselves (hence the AUC).",
        "Copy the advised values into the model YAML, bump its version, run the evaluation with --candidate on the "
        "new file, then rescore and deploy.",
    ))  # fmt: skip
    return parts
