"""Compliance figures per agency and per creditor for a period, and the regulator's report
of them as CSV or PDF.

For each organisation: contacts (ContactAuthorized events timed in the period), contacts the
contract refused (the gateway's reports), the refusal rate refused / (authorised + refused),
complaints filed per 1,000 contacts, and the disputes resolved in the period with the mean
days from ClaimDisputed to DisputeResolved. A contact counts for the claim's owner at its
block and, when someone else asked for it, for that agency; a complaint for the owner and
the agency it names; a dispute for the owner and the agency holding the mandate when it was
raised. Contacts and disputes are timed by their blocks, refusals and complaints by when
this service recorded them. Nothing in a report is personal data.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF
from sqlalchemy import Connection, select

from debtledger.coordination.monitor import BlockTimes, Monitor, mandate_timelines, mandated_agency
from debtledger.errors import InvalidInput
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from debtledger.store.models import (
    claim_events_table,
    collection_events_table,
    complaints_table,
    refused_attempts_table,
)

DAY = 86_400
ROLES = ("agency", "creditor")
_IN = 500
OWNER_EVENTS = ("ClaimRegistered", "ClaimTransferred")
CSV_COLUMNS = (
    "period_start",
    "period_end",
    "role",
    "organisation",
    "address",
    "contacts",
    "refused_attempts",
    "refusal_rate",
    "complaints",
    "complaints_per_1000_contacts",
    "disputes_resolved",
    "avg_days_to_resolve_dispute",
)


@dataclass
class Figures:
    """One organisation's figures for the period (rates None where they divide by zero)."""

    role: str
    address: str
    organisation: str
    contacts: int = 0
    refused_attempts: int = 0
    complaints: int = 0
    disputes_resolved: int = 0
    dispute_days: list[float] = field(default_factory=list, repr=False)

    @property
    def refusal_rate(self) -> float | None:
        tried = self.contacts + self.refused_attempts
        return self.refused_attempts / tried if tried else None

    @property
    def complaints_per_1000_contacts(self) -> float | None:
        return self.complaints * 1000 / self.contacts if self.contacts else None

    @property
    def avg_days_to_resolve_dispute(self) -> float | None:
        return sum(self.dispute_days) / len(self.dispute_days) if self.dispute_days else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("dispute_days")
        data["refusal_rate"] = self.refusal_rate
        data["complaints_per_1000_contacts"] = self.complaints_per_1000_contacts
        data["avg_days_to_resolve_dispute"] = self.avg_days_to_resolve_dispute
        return data


@dataclass(frozen=True)
class Report:
    """The figures of every organisation with activity in [start, end)."""

    start: datetime
    end: datetime
    figures: list[Figures]

    def to_json(self) -> dict[str, Any]:
        return {
            "period_start": self.start.isoformat(),
            "period_end": self.end.isoformat(),
            "figures": [f.to_json() for f in self.figures],
        }

    def of(self, role: str, address: str) -> Figures | None:
        for f in self.figures:
            if f.role == role and f.address.lower() == address.lower():
                return f
        return None


def check_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """A period with time zones whose start is before its end."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("needs a time zone (e.g. 2026-12-01T00:00:00+08:00)", field="start")
    if end <= start:
        raise InvalidInput("must be after the start", field="end")
    return start, end


def _fmt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


class Reports:
    """Compliance figures from the read models and the supervision tables."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.times = BlockTimes(rt)
        self._names: dict[str, str] = {}

    def report(self, start: datetime, end: datetime, *, refresh: bool = True) -> Report:
        """The figures for [start, end); with `refresh` the read models are brought to the
        chain's head first."""
        start, end = check_period(start, end)
        if refresh:
            Monitor(self.rt).index()
        lo, hi = start.timestamp(), end.timestamp()
        rows: dict[tuple[str, str], Figures] = {}

        def add(role: str, address: str | None) -> Figures | None:
            if address is None:
                return None
            key = (role, address.lower())
            if key not in rows:
                rows[key] = Figures(role, address, self._name(address))
            return rows[key]

        with self.rt.engine.connect() as conn:
            contacts = self._contacts(conn, lo, hi)
            disputes = self._disputes(conn, lo, hi)
            claims = {c for c, *_ in contacts} | {c for c, *_ in disputes}
            owners = self._owners(conn, claims)
            timelines = mandate_timelines(conn, self.times, {c for c, *_ in disputes})
            refused = conn.execute(
                select(refused_attempts_table).where(
                    refused_attempts_table.c.attempted_at >= lo,
                    refused_attempts_table.c.attempted_at < hi,
                )
            ).all()
            complaints = conn.execute(
                select(complaints_table.c.creditor, complaints_table.c.agency).where(
                    complaints_table.c.filed_at >= lo, complaints_table.c.filed_at < hi
                )
            ).all()
        for claim, position, agency in contacts:
            owner = _owner_at(owners.get(claim, []), position)
            if (f := add("creditor", owner)) is not None:
                f.contacts += 1
            other = owner is None or agency.lower() != owner.lower()
            if other and (f := add("agency", agency)) is not None:
                f.contacts += 1
        for r in refused:
            if (f := add("creditor", r.creditor)) is not None:
                f.refused_attempts += 1
            asker = r.address
            other = r.creditor is None or (asker or "").lower() != r.creditor.lower()
            if other and (f := add("agency", asker)) is not None:
                f.refused_attempts += 1
        for creditor, agency in complaints:
            if (f := add("creditor", creditor)) is not None:
                f.complaints += 1
            if (f := add("agency", agency)) is not None:
                f.complaints += 1
        for claim, position, disputed_at, resolved_at in disputes:
            days = (resolved_at - disputed_at) / DAY
            owner = _owner_at(owners.get(claim, []), position)
            mandated = mandated_agency(timelines.get(claim, []), disputed_at)
            for f in (add("creditor", owner), add("agency", mandated)):
                if f is not None:
                    f.disputes_resolved += 1
                    f.dispute_days.append(days)
        ordered = sorted(rows.values(), key=lambda f: (ROLES.index(f.role), f.organisation))
        return Report(start, end, ordered)

    # ------------------------------------------------------------------ output

    def csv(self, report: Report) -> bytes:
        """The report as CSV (UTF-8, a header row, one row per organisation and role)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for f in report.figures:
            writer.writerow(
                [
                    report.start.isoformat(),
                    report.end.isoformat(),
                    f.role,
                    f.organisation,
                    f.address,
                    f.contacts,
                    f.refused_attempts,
                    _fmt(f.refusal_rate),
                    f.complaints,
                    _fmt(f.complaints_per_1000_contacts, 2),
                    f.disputes_resolved,
                    _fmt(f.avg_days_to_resolve_dispute, 2),
                ]
            )
        return out.getvalue().encode()

    def pdf(self, report: Report) -> bytes:
        """The report as a PDF: one table per role."""
        pdf = FPDF(orientation="landscape")
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, "Collection compliance report", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        pdf.cell(
            0,
            6,
            f"Period {report.start.isoformat()} to {report.end.isoformat()}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        head = (
            ("Organisation", 70),
            ("Contacts", 22),
            ("Refused", 22),
            ("Refusal rate", 28),
            ("Complaints", 25),
            ("per 1,000", 25),
            ("Disputes", 22),
            ("Days to resolve", 32),
        )
        for role in ROLES:
            pdf.set_font("Helvetica", "B", 12)
            pdf.cell(0, 10, f"Per {role}", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "B", 9)
            for title, width in head:
                pdf.cell(width, 6, title, border=1)
            pdf.ln()
            pdf.set_font("Helvetica", size=9)
            chosen = [f for f in report.figures if f.role == role]
            if not chosen:
                pdf.cell(0, 6, "no activity", new_x="LMARGIN", new_y="NEXT")
            for f in chosen:
                values = (
                    _latin(f.organisation)[:40],
                    str(f.contacts),
                    str(f.refused_attempts),
                    _fmt(f.refusal_rate) or "-",
                    str(f.complaints),
                    _fmt(f.complaints_per_1000_contacts, 2) or "-",
                    str(f.disputes_resolved),
                    _fmt(f.avg_days_to_resolve_dispute, 2) or "-",
                )
                for value, (_, width) in zip(values, head, strict=True):
                    pdf.cell(width, 6, value, border=1)
                pdf.ln()
        pdf.set_font("Helvetica", size=8)
        pdf.multi_cell(
            0,
            5,
            "Refusal rate: refused / (authorised contacts + refused). Contacts and disputes "
            "are timed by their blocks; refusals and complaints by when they were recorded.",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        return bytes(pdf.output())

    # ------------------------------------------------------------------ sources

    def _contacts(
        self, conn: Connection, lo: float, hi: float
    ) -> list[tuple[str, tuple[int, int], str]]:
        """(claim, (block, log index), agency) of each contact authorised in the period."""
        ev = collection_events_table.c
        out = []
        for key, args, block, index in conn.execute(
            select(ev.key, ev.args, ev.block_number, ev.log_index).where(
                ev.name == "ContactAuthorized"
            )
        ):
            if lo <= int(args["at"]) < hi:
                out.append((str(key), (int(block), int(index)), str(args["agency"])))
        return out

    def _disputes(
        self, conn: Connection, lo: float, hi: float
    ) -> list[tuple[str, tuple[int, int], int, int]]:
        """(claim, position of the dispute, disputed at, resolved at) of each dispute
        resolved in the period."""
        ev = claim_events_table.c
        rows = conn.execute(
            select(ev.claim_id, ev.name, ev.block_number, ev.log_index)
            .where(ev.name.in_(("ClaimDisputed", "DisputeResolved")))
            .order_by(ev.block_number, ev.log_index)
        ).all()
        at = self.times.of(int(r.block_number) for r in rows)
        opened: dict[str, tuple[tuple[int, int], int]] = {}
        out = []
        for r in rows:
            when = at[int(r.block_number)]
            if r.name == "ClaimDisputed":
                opened[r.claim_id] = ((int(r.block_number), int(r.log_index)), when)
            elif r.claim_id in opened:
                position, disputed_at = opened.pop(r.claim_id)
                if lo <= when < hi:
                    out.append((str(r.claim_id), position, disputed_at, when))
        return out

    def _owners(
        self, conn: Connection, claims: Iterable[str]
    ) -> dict[str, list[tuple[tuple[int, int], str]]]:
        """Each claim's owners, by the position from which each owned it."""
        ev = claim_events_table.c
        ids = sorted(set(claims))
        out: dict[str, list[tuple[tuple[int, int], str]]] = defaultdict(list)
        for i in range(0, len(ids), _IN):
            for r in conn.execute(
                select(ev.claim_id, ev.name, ev.args, ev.block_number, ev.log_index)
                .where(ev.claim_id.in_(ids[i : i + _IN]), ev.name.in_(OWNER_EVENTS))
                .order_by(ev.block_number, ev.log_index)
            ):
                who = r.args["creditor"] if r.name == "ClaimRegistered" else r.args["buyer"]
                out[r.claim_id].append(((int(r.block_number), int(r.log_index)), str(who)))
        return out

    def _name(self, address: str) -> str:
        if address not in self._names:
            self._names[address] = OrgService(self.rt).name_of(address)
        return self._names[address]


def _owner_at(
    owners: Sequence[tuple[tuple[int, int], str]], position: tuple[int, int]
) -> str | None:
    current = None
    for since, who in owners:
        if since > position:
            break
        current = who
    return current


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def period_of(start: str, end: str) -> tuple[datetime, datetime]:
    """A period from ISO 8601 dates or times ("2026-12-01", or with a time and zone); a date
    alone is midnight UTC, and an end date counts whole (to the next midnight)."""

    def parse(text: str, name: str, whole_day: bool) -> datetime:
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput("must be an ISO 8601 date or time", field=name) from None
        if len(text) == 10:  # a date
            when = when.replace(tzinfo=UTC)
            if whole_day:
                when = when.fromtimestamp(when.timestamp() + DAY, UTC)
        elif when.tzinfo is None:
            raise InvalidInput("needs a time zone", field=name)
        return when

    return check_period(parse(start, "start", False), parse(end, "end", True))
