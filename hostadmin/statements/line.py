"""The one shape every statement reader yields."""
from dataclasses import dataclass
from datetime import date


@dataclass
class StatementLine:
    """One bank line: amount in minor units, positive = money into the account."""

    line: int            # where it came from in the file (1-based line, or entry number for XML formats)
    date: date
    amount: int
    currency: str
    description: str
    reference: str = ""  # the bank's own id for the line (CSV reference column, FITID, AcctSvcrRef …)
    source_id: str = ""  # filled by ids.assign (or by a reader whose format has its own id scheme)
    new: bool = True

    @property
    def number(self):
        """The line number (the name the CSV preview has always used)."""
        return self.line
