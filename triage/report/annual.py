"""The annual complaints performance and service improvement report (Code 8.1–8.2).

Built from the computed :class:`~triage.report.figures.Report` (so its figures are the report's
own) in the Code's structure:

    (a) the self-assessment against the Code, pre-filled provision by provision with the evidence
        the data holds, in the layout of the Ombudsman's self-assessment form;
    (b) qualitative and quantitative analysis of complaint handling performance, with the
        complaints refused by reason;
    (c) findings of non-compliance with the Code by the Ombudsman;
    (d) service improvements made as a result of the learning from complaints;
    (e) annual reports or other reports by the Ombudsman about the landlord;
    (f) other findings, and the governing body's response to the report.

What triage cannot know ((c), (e), (f), and whether the landlord complies) comes from text files
the user names; anything not given is marked as still to be written. The result is itself a
``Report``, so report.html, report.xlsx and report.json's renderers write it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from triage.errors import InputError
from triage.report.figures import Report, Section
from triage.tables import Cell, Table

TO_WRITE = "Still to be written by the landlord."
TO_DECIDE = "For the landlord to decide"


@dataclass(frozen=True, slots=True)
class AnnualTexts:
    """Text files the user names for what triage cannot know (plain text or Markdown, shown as text)."""

    ombudsman_findings: Path | None = None  # (c)
    ombudsman_reports: Path | None = None  # (e)
    governing_body_response: Path | None = None  # (f)

    def read(self, which: str) -> str | None:
        path = getattr(self, which)
        if path is None:
            return None
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InputError(
                f"{path}: could not read it ({exc.strerror}). Check the file named for --{which.replace('_', '-')}."
            ) from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text. Save it as plain text (UTF-8) and name it again.") from exc


def _rows(report: Report, table_id: str) -> list[list[Cell]]:
    try:
        return report.table(table_id).rows
    except StopIteration:
        return []


def _row(report: Report, table_id: str, first: str) -> list[Cell] | None:
    return next((r for r in _rows(report, table_id) if r and str(r[0]).startswith(first)), None)


def _figure(report: Report, figure_id: str) -> Cell:
    return next((f.value for f in report.figures if f.id == figure_id), None)


def _shown(value: Cell, suffix: str = "") -> str:
    return "not known" if value is None else f"{value}{suffix}"


def self_assessment(report: Report) -> Table:
    """One row per Code provision the data speaks to: the provision, what the Code requires, and
    the evidence from this report; compliance and commentary are left for the landlord."""
    ghost = _rows(report, "ghost_stages")
    ghost_total = ghost[-1][-1] if ghost else 0
    mp = sum(int(r[3] or 0) for r in ghost if r[0] == "dissatisfied_mp_enquiry")
    recorded_informal = sum(int(r[3] or 0) for r in ghost if r[0] == "recorded_informal_stage")
    survey = next(
        (
            r[3]
            for r in _rows(report, "vulnerability_hazards")
            if r[0] == "survey_dissatisfaction" and r[1] == "(contacts with any)"
        ),
        0,
    )
    refused = _rows(report, "refusals")
    refusal_text = ", ".join(f"{r[0]} {r[2]}" for r in refused[:-1] if r[2]) or "none recorded"
    ack = {s: _row(report, "acknowledgements", f"stage {s}") for s in (1, 2)}
    ch02 = {s: _row(report, "ch02_timescales", f"stage {s}") for s in (1, 2)}
    risk_total = _row(report, "learning_by_risk", "total")
    past_target = len(_rows(report, "learning_past_target"))

    def ack_text(s: int) -> str:
        r = ack[s]
        return (
            f"{r[2]} of {r[1]} acknowledged within 5 working days ({_shown(r[3], '%')}); {r[4]} with no acknowledgement recorded."
            if r
            else "no data"
        )

    def ch02_text(s: int) -> str:
        r = ch02[s]
        if not r:
            return "no data"
        return (
            f"{r[1]} basis: {r[3]} of {r[2]} within the Code's timescale ({_shown(r[4], '%')}), {r[5]} counting agreed "
            f"extensions ({_shown(r[6], '%')}); {r[7]} extensions agreed."
        )

    learning = (
        f"{risk_total[1]} learning outcomes identified; {risk_total[2]} implemented by the period end ({_shown(risk_total[3], '%')}), "
        f"{risk_total[4]} to date ({_shown(risk_total[5], '%')}); {past_target} open past their target date."
        if risk_total
        else "No learning outcomes recorded in triage (record them with triage learning or import the learning log)."
    )
    provisions: list[tuple[str, str, str, str]] = [
        ("1 Definition", "1.2", "An expression of dissatisfaction about the landlord's service is a complaint, however it is made.",
         f"{ghost_total} ghost-stage flags: contacts that read as complaints but were handled outside the two formal stages "
         "(service requests, enquiries, informal handling)."),
        ("1 Definition", "1.3", "A complaint made by a representative (an MP, a councillor, an advocate) is a complaint.",
         f"{mp} MP enquiries expressing dissatisfaction flagged."),
        ("1 Definition", "1.6", "A resident expressing dissatisfaction in a survey is told how to complain.",
         f"{survey} survey answers flagged as dissatisfied."),
        ("2 Exclusions", "2.2–2.4", "A complaint is refused only for a reason the policy sets out, and the resident is told why.",
         f"Complaints refused: {refused[-1][2] if refused else 0} ({refusal_text})."),
        ("5 Complaint handling", "5.2, 5.3", "Two stages only; no informal or extra stage.",
         f"{recorded_informal} contacts recorded at an informal stage or stage 0 (a ghost stage by name)."),
        ("5 Complaint handling", "6.2", "Stage 1 complaints acknowledged within 5 working days.", ack_text(1)),
        ("6 Stage 1", "6.3, 6.4", "Stage 1 responses within 10 working days of the acknowledgement; extensions of no more than 10.", ch02_text(1)),
        ("6 Stage 2", "6.11", "Escalations acknowledged within 5 working days.", ack_text(2)),
        ("6 Stage 2", "6.14, 6.15", "Stage 2 responses within 20 working days of the acknowledgement; extensions of no more than 20.", ch02_text(2)),
        ("8 Self-assessment and reporting", "8.1", "An annual complaints performance and service improvement report.", "This report."),
        ("9 Learning", "9.1–9.7", "Learning from complaints is identified, acted on and reported to the governing body.", learning),
    ]  # fmt: skip
    return Table(
        "self_assessment",
        "Self-assessment against the Complaint Handling Code",
        "Laid out as the Ombudsman's self-assessment form: section, Code provision, what it requires, whether the landlord "
        "complies, the evidence, and the landlord's explanation. The evidence is pre-filled from this report's figures "
        "(same definitions); whether the landlord complies, and the explanation, are for the landlord.",
        ["section", "Code provision", "requirement", "complies?", "evidence (from triage's data)", "explanation and action"],
        [[sec, code, req, TO_DECIDE, evidence, TO_WRITE] for sec, code, req, evidence in provisions],
    )


def _tables(report: Report, *ids: str) -> list[Table]:
    found = {t.id: t for t in report.tables()}
    return [found[i] for i in ids if i in found]


def _text_section(section_id: str, title: str, text: str | None, what: str) -> Section:
    if text:
        return Section(section_id, title, text)
    return Section(section_id, title, f"{TO_WRITE} {what}", notes=["Name a text file for it to fill this section."])


def annual_report(report: Report, texts: AnnualTexts | None = None) -> Report:
    """The Code 8.1 annual report from the computed report and the user's texts."""
    texts = texts or AnnualTexts()
    sections = [
        Section(
            "a_self_assessment",
            "(a) Self-assessment against the Complaint Handling Code",
            "Code 8.1(a). The evidence column is computed from the complaints data; the landlord completes the rest.",
            [self_assessment(report)],
        ),
        Section(
            "b_performance",
            "(b) Complaint handling performance",
            "Code 8.1(b): qualitative and quantitative analysis of complaint handling performance, including a summary of "
            "the types of complaints refused.",
            _tables(
                report,
                "headline",
                "complaints_by_stage",
                "complaints_by_area",
                "complaints_by_theme",
                "acknowledgements",
                "ch02_timescales",
                "outcomes",
                "reopened",
                "refusals",
                "mp_enquiries_by_area",
                "service_requests_by_area",
                "theme_trends",
                "excerpts",
            ),
        ),
        _text_section(
            "c_ombudsman_findings",
            "(c) Findings of non-compliance with the Code by the Ombudsman",
            texts.read("ombudsman_findings"),
            "Give the Ombudsman's findings of non-compliance in a text file (--ombudsman-findings).",
        ),
        Section(
            "d_service_improvements",
            "(d) Service improvements made as a result of the learning from complaints",
            "Code 8.1(d): learning outcomes identified and implemented, from the learning log.",
            _tables(report, "learning_by_risk", "learning_by_theme", "learning_by_service_area", "learning_past_target"),
            [] if _rows(report, "learning_by_risk") else ["No learning outcomes in the store: report over the store."],
        ),
        _text_section(
            "e_ombudsman_reports",
            "(e) Annual reports and other reports by the Ombudsman about the landlord",
            texts.read("ombudsman_reports"),
            "Give the Ombudsman's annual landlord report and any other reports about the landlord in a text file "
            "(--ombudsman-reports).",
        ),
        _text_section(
            "f_governing_body_response",
            "(f) Other findings, and the governing body's response to this report",
            texts.read("governing_body_response"),
            "Give the governing body's response in a text file (--governing-body-response).",
        ),
    ]
    title = f"Annual complaints performance and service improvement report, {report.start:%-d %B %Y} to {report.end:%-d %B %Y}"
    return replace(report, title=title, sections=sections)


def write_annual(report: Report, out_dir: Path, texts: AnnualTexts | None = None) -> tuple[Report, list[Path]]:
    """annual.html, annual.xlsx and annual.json in ``out_dir``."""
    from triage.report.html import write_html
    from triage.report.json_out import write_json
    from triage.report.xlsx import write_xlsx

    annual = annual_report(report, texts)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "annual.html", out_dir / "annual.xlsx", out_dir / "annual.json"]
    write_html(annual, paths[0])
    write_xlsx(annual, paths[1])
    write_json(annual, paths[2])
    return annual, paths
