"""Any CSV a bank exports: detect the mapping from the file, then read its lines as StatementLines.

A mapping has the keys of `flask imports upload --mapping` (all optional; detection fills the rest):
encoding, delimiter, header_line (1-based, None = no header), date, date_format, description (a column
or a list joined by a space), amount or debit + credit, negate, direction ({"column", "in": [...]}),
decimal_comma, currency or fixed_currency, reference, skip ([{"column", "equals": [...]}]).
A column is its header name or `#N` (the N-th, 1-based).
"""
import re
from collections import Counter
from dataclasses import dataclass, field

from hostadmin.money import AmountError, is_currency
from hostadmin.params import parse_int
from hostadmin.statements import amounts, dates, table
from hostadmin.statements.line import StatementLine

KEYS = ("encoding", "delimiter", "header_line", "date", "date_format", "description", "amount", "debit",
        "credit", "negate", "direction", "decimal_comma", "currency", "fixed_currency", "reference", "skip")
# Header names seen in exports, lower case, best first.
NAMES = {
    "date": ("booking date", "transaction date", "date", "posted", "posting date", "buchungstag", "buchungsdatum",
             "datum", "date opération", "date operation", "fecha", "data", "datum zaúčtování", "data operacji",
             "дата", "transaktionsdatum", "boekdatum", "valuta", "value date", "wertstellung"),
    "amount": ("amount", "betrag", "bedrag", "montant", "importe", "importo", "částka", "kwota", "сумма",
               "belopp", "beløb", "value", "transaction amount", "amount (eur)", "umsatz"),
    "debit": ("debit", "withdrawal", "withdrawals", "money out", "paid out", "soll", "out", "ausgang",
              "débit", "debet", "wypłata", "af"),
    "credit": ("credit", "deposit", "deposits", "money in", "paid in", "haben", "in", "eingang", "crédit",
               "kredit", "wpłata", "bij"),
    "description": ("description", "details", "memo", "narrative", "payee", "name", "verwendungszweck",
                    "buchungstext", "omschrijving", "naam / omschrijving", "naam", "mededelingen", "libellé",
                    "libelle", "concepto", "descrizione", "popis", "popis transakce", "opis", "tytuł",
                    "описание", "назначение платежа", "text", "particulars", "transaction details",
                    "counterparty", "beneficiary", "empfänger", "auftraggeber/empfänger"),
    "currency": ("currency", "ccy", "währung", "waehrung", "valuta", "munt", "devise", "moneda", "měna",
                 "waluta", "валюта"),
    "reference": ("reference", "transaction id", "id", "ref", "fitid", "referenz", "kenmerk", "référence",
                  "referencia", "transaction reference", "bank reference"),
    "status": ("status", "state", "stav", "statut", "buchungsstatus"),
}
BALANCE = re.compile(r"^\s*((opening|closing|starting|ending|start|end|final|initial|new|old|previous|"
                     r"available|ledger|booked)\s+balance|balance\b|(anfangs|end|alter|neuer)\s*saldo|saldo\b|"
                     r"počáteční zůstatek|konečný zůstatek|solde\b|(sub)?total|totals?\b|summe\b|celkem\b)",
                     re.IGNORECASE)
PENDING = {"pending", "vorgemerkt", "in process", "processing", "authorised", "authorized", "reserved",
           "non-booked", "nicht gebucht", "en attente", "pendiente", "hold"}
# Indicator values: money in, then money out.
DIRECTIONS = [({"k", "kredit"}, {"d", "debet"}), ({"cr", "c"}, {"dr", "d"}), ({"bij"}, {"af"}),
              ({"h", "haben"}, {"s", "soll"}), ({"credit", "in"}, {"debit", "out"}), ({"+"}, {"-"})]
_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY", "Kč": "CZK", "zł": "PLN", "₹": "INR", "₽": "RUB", "CHF": "CHF"}


@dataclass
class Reading:
    """What a CSV statement holds under a mapping."""

    mapping: dict
    columns: list
    lines: list = field(default_factory=list)
    invalid: list = field(default_factory=list)   # {"line": n, "error": text}
    skipped: int = 0
    warnings: list = field(default_factory=list)
    error: str | None = None  # the mapping does not fit yet: what to choose


class MappingError(ValueError):
    """A mapping that does not fit the file; the message says what to choose."""


def resolve(columns, column):
    """The position of a column given by name or `#N`, or None."""
    if not column:
        return None
    if column in columns:
        return columns.index(column)
    if isinstance(column, str) and column.startswith("#"):
        number = parse_int(column[1:], minimum=1, maximum=len(columns))
        return None if number is None else number - 1
    return None


def detect(text, given=None, default_currency="USD"):
    """(mapping, rows, columns, data_start): every key the given mapping leaves out, detected from the file."""
    given = {key: value for key, value in (given or {}).items() if key in KEYS}
    mapping = dict(given)
    if not mapping.get("delimiter"):
        mapping["delimiter"] = table.detect_delimiter(text)
    rows = table.read_rows(text, mapping["delimiter"])
    width = _width(rows)
    if "header_line" in given:
        header_index = _index_of_line(rows, given["header_line"])
        data_start = (header_index + 1) if header_index is not None else 0
    else:
        header_index, data_start = table.find_header(rows)
    if header_index is not None and width < 2 and len(rows[header_index][1]) < 2:
        raise table.TableError("The file needs at least two columns.")
    width = max(width, len(rows[header_index][1]) if header_index is not None else 0)
    columns = table.header_names(rows, header_index, width)
    mapping["header_line"] = rows[header_index][0] if header_index is not None else None
    data = [cells for _, cells in rows[data_start:] if any(cells)]
    _detect_columns(mapping, given, columns, data, default_currency)
    return mapping, rows, columns, data_start


def _width(rows):
    counts = Counter(len(cells) for _, cells in rows[:2000] if sum(1 for c in cells if c) >= 2)
    return counts.most_common(1)[0][0] if counts else max((len(c) for _, c in rows), default=0)


def _index_of_line(rows, line):
    if line in (None, "", 0):
        return None
    for position, (number, _) in enumerate(rows):
        if number >= int(line):
            return position
    raise MappingError(f"The file has no line {line}.")


def _column_values(data, position, limit=20_000):
    return [cells[position] for cells in data[:limit] if position < len(cells) and cells[position]]


def _by_name(columns, role, exclude=()):
    lowered = {column.lower().strip(): column for column in columns if column not in exclude}
    return next((lowered[name] for name in NAMES[role] if name and name in lowered), None)


def _detect_columns(mapping, given, columns, data, default_currency):
    values = {column: _column_values(data, position) for position, column in enumerate(columns)}
    used = set()
    if not mapping.get("date"):
        date_columns = [c for c in columns if values[c] and dates.detect(values[c][:50])]
        named = _by_name(date_columns, "date") if date_columns else None
        mapping["date"] = named or (date_columns[0] if date_columns else "")
    used.add(mapping["date"])
    if not mapping.get("date_format") and mapping["date"] and resolve(columns, mapping["date"]) is not None:
        mapping["date_format"] = dates.detect(values[columns[resolve(columns, mapping["date"])]]) or "%Y-%m-%d"
    numeric = [c for c in columns if c not in used and values[c] and
               sum(table.is_amount(v) for v in values[c][:50]) * 10 >= 6 * len(values[c][:50])]
    if not any(given.get(k) for k in ("amount", "debit", "credit")):
        free = [c for c in columns if c not in used]  # a column named as an amount wins even with bad cells
        amount = _by_name(free, "amount")
        debit, credit = _by_name(free, "debit"), _by_name(free, "credit")
        if amount:
            mapping["amount"] = amount
        elif debit or credit:
            mapping["debit"], mapping["credit"] = debit or "", credit or ""
        else:
            plain = [c for c in numeric if not re.search(r"balance|saldo|zůstatek|solde", c, re.I)]
            mapping["amount"] = plain[0] if plain else ""
    for key in ("amount", "debit", "credit"):
        mapping.setdefault(key, "")
        used.add(mapping[key])
    if "decimal_comma" not in given:
        cells = [v for key in ("amount", "debit", "credit") if mapping[key] in values for v in values[mapping[key]]]
        mapping["decimal_comma"] = amounts.detect_decimal_comma(cells)
    mapping.setdefault("negate", False)
    if "direction" not in given and mapping["amount"]:
        mapping["direction"] = _detect_direction(columns, values, used)
    mapping.setdefault("direction", None)
    if mapping["direction"]:
        used.add(mapping["direction"]["column"])
    if not mapping.get("currency") and not mapping.get("fixed_currency"):
        codes = [c for c in columns if c not in used and values[c] and all(is_currency(v.upper())
                                                                           for v in values[c][:200])]
        mapping["currency"] = _by_name(codes, "currency") or (codes[0] if codes else "")
        if not mapping["currency"]:
            mapping["fixed_currency"] = _currency_from_symbols(values.get(mapping["amount"] or mapping["debit"]
                                                                          or mapping["credit"], []),
                                                               default_currency)
    mapping.setdefault("currency", "")
    mapping.setdefault("fixed_currency", "")
    used.add(mapping["currency"])
    if "reference" not in given:
        candidates = [c for c in columns if c not in used and values[c]
                      and len(set(values[c])) == len(values[c])]
        mapping["reference"] = _by_name(candidates, "reference") or ""
    used.add(mapping["reference"])
    if not mapping.get("description"):
        described = [c for c in columns if c not in used and c.lower().strip() in NAMES["description"]]
        if not described:
            text_columns = [c for c in columns if c not in used and values[c]
                            and not any(table.is_amount(v) or table.is_date(v) for v in values[c][:5])]
            described = sorted(text_columns, key=lambda c: -sum(map(len, values[c][:200])))[:1]
        mapping["description"] = described[0] if len(described) == 1 else described[:3]
    if "skip" not in given:
        mapping["skip"] = _detect_skip(mapping, columns, values) + _detect_record_types(mapping, columns, data)


def _detect_direction(columns, values, used):
    for column in columns:
        if column in used or not values[column]:
            continue
        seen = {v.strip().lower() for v in values[column]}
        for money_in, money_out in DIRECTIONS:
            if seen <= money_in | money_out and seen & money_out | seen & money_in and len(seen) <= 2:
                originals = sorted({v.strip() for v in values[column] if v.strip().lower() in money_in})
                return {"column": column, "in": originals or sorted(money_in)}
    return None


def _currency_from_symbols(cells, default_currency):
    for symbol, code in _SYMBOLS.items():
        if any(symbol in cell for cell in cells[:200]):
            return code
    return default_currency


def _detect_skip(mapping, columns, values):
    rules = []
    described = mapping["description"] if isinstance(mapping["description"], list) else [mapping["description"]]
    for column in columns:
        if not values[column]:
            continue
        if column in described or column.lower() in NAMES["description"]:
            balance = sorted({v for v in values[column] if BALANCE.match(v)})[:20]
            if balance:
                rules.append({"column": column, "equals": balance})
        elif column.lower().strip() in NAMES["status"]:
            pending = sorted({v for v in values[column] if v.strip().lower() in PENDING})
            if pending:
                rules.append({"column": column, "equals": pending})
    return rules


def _detect_record_types(mapping, columns, data):
    """Skip rules for a column of a few codes (record types such as 10/82/86) whose rows never carry a date."""
    date_at = resolve(columns, mapping.get("date"))
    if date_at is None:
        return []
    roles = {mapping.get(k) for k in ("date", "amount", "debit", "credit", "currency", "reference")}
    roles |= set(mapping["description"] if isinstance(mapping["description"], list) else [mapping["description"]])
    rules = []
    for position, column in enumerate(columns):
        if column in roles:
            continue
        dated = {}
        for cells in data[:20_000]:
            code = cells[position] if position < len(cells) else ""
            ok = date_at < len(cells) and _is_date_in(cells[date_at], mapping["date_format"])
            dated[code] = dated.get(code, False) or ok
        if 2 <= len(dated) <= 6 and all(code for code in dated) and any(dated.values()) \
                and not all(dated.values()):
            rules.append({"column": column, "equals": sorted(code for code, ok in dated.items() if not ok)})
    return rules


def _is_date_in(value, date_format):
    try:
        dates.parse(value, date_format)
    except ValueError:
        return False
    return True


def check(mapping, columns):
    """Raise MappingError when the mapping names a column the file lacks or leaves a choice open."""
    if resolve(columns, mapping.get("date")) is None:
        raise MappingError("Choose the date column." if not mapping.get("date") else
                           f"The date column “{mapping['date']}” is not in this file.")
    described = mapping.get("description")
    for column in described if isinstance(described, list) else [described]:
        if resolve(columns, column) is None:
            raise MappingError("Choose the description column." if not column else
                               f"The description column “{column}” is not in this file.")
    if not mapping.get("amount") and not (mapping.get("debit") or mapping.get("credit")):
        raise MappingError("Choose the amount column, or the debit and credit columns.")
    for key in ("amount", "debit", "credit", "currency", "reference"):
        if mapping.get(key) and resolve(columns, mapping[key]) is None:
            raise MappingError(f"The {key} column “{mapping[key]}” is not in this file.")
    direction = mapping.get("direction")
    if direction and (not isinstance(direction, dict) or resolve(columns, direction.get("column")) is None
                      or not isinstance(direction.get("in"), list)):
        raise MappingError("The direction needs a column of this file and the values that mean money in.")
    for rule in mapping.get("skip") or []:
        if not isinstance(rule, dict) or resolve(columns, rule.get("column")) is None \
                or not isinstance(rule.get("equals"), list):
            raise MappingError("Each skip rule needs a column of this file and the values to skip.")
    if not mapping.get("currency") and not is_currency(str(mapping.get("fixed_currency") or "").upper()):
        raise MappingError("Choose the currency column or give the currency (three letters, such as USD).")
    date_format = mapping.get("date_format")
    if not isinstance(date_format, str) or "%" not in date_format:
        raise MappingError("Choose the date format.")


def read(text, given=None, default_currency="USD"):
    """The Reading of CSV text: the mapping used (detected where not given) and every line's fate."""
    mapping, rows, columns, data_start = detect(text, given, default_currency)
    result = Reading(mapping=mapping, columns=columns)
    try:
        check(mapping, columns)
    except MappingError as error:
        result.error = str(error)
        return result
    _read_lines(result, rows[data_start:], columns, mapping)
    return result


def _read_lines(result, rows, columns, mapping):
    at = {key: resolve(columns, mapping.get(key)) for key in ("date", "amount", "debit", "credit", "currency",
                                                              "reference")}
    described = mapping["description"] if isinstance(mapping["description"], list) else [mapping["description"]]
    text_at = [resolve(columns, column) for column in described]
    direction = mapping.get("direction")
    direction_at = resolve(columns, direction["column"]) if direction else None
    money_in = {str(v).strip().lower() for v in direction["in"]} if direction else set()
    skips = [(resolve(columns, rule["column"]), {str(v).strip().lower() for v in rule["equals"]})
             for rule in mapping.get("skip") or []]
    fixed = str(mapping.get("fixed_currency") or "").upper()
    comma, negate, date_format = bool(mapping.get("decimal_comma")), bool(mapping.get("negate")), mapping["date_format"]
    amount_at = [at[k] for k in ("amount", "debit", "credit") if at[k] is not None]

    def cell(cells, position):
        return cells[position] if position is not None and position < len(cells) else ""

    for number, cells in rows:
        if not any(cells):
            continue
        if any(cell(cells, position).lower() in values for position, values in skips):
            result.skipped += 1
            continue
        description = " ".join(part for part in (cell(cells, p) for p in text_at) if part)
        raw_date = cell(cells, at["date"])
        if not raw_date and not any(cell(cells, p) for p in amount_at):
            if result.lines and description:   # a description that goes on over the next line
                previous = result.lines[-1]
                previous.description = f"{previous.description} {description}"[:2000]
            else:
                result.skipped += 1
            continue
        try:
            day = dates.parse(raw_date, date_format)
        except ValueError:
            result.invalid.append({"line": number, "error": f"“{raw_date[:40]}” is not a date like "
                                                            f"{dates.example(date_format)}"})
            continue
        currency = (cell(cells, at["currency"]) or fixed).upper()
        if not is_currency(currency):
            result.invalid.append({"line": number, "error": "the currency is missing" if not currency
                                   else f"“{currency[:40]}” is not a currency code"})
            continue
        try:
            amount = _amount(cells, cell, at, currency, comma, negate, direction_at, money_in)
        except AmountError as error:
            result.invalid.append({"line": number, "error": str(error)})
            continue
        if not description:
            result.invalid.append({"line": number, "error": "the description is empty"})
            continue
        result.lines.append(StatementLine(number, day, amount, currency, description,
                                          reference=cell(cells, at["reference"])))


def _amount(cells, cell, at, currency, comma, negate, direction_at, money_in):
    if at["amount"] is not None:
        amount = amounts.parse(cell(cells, at["amount"]), currency, comma)
        if direction_at is not None:
            indicator = cell(cells, direction_at).lower()
            if not indicator:
                raise AmountError("the direction (money in or out) is missing")
            amount = abs(amount) if indicator in money_in else -abs(amount)
        elif negate:
            amount = -amount
    else:
        debit = _side(cell(cells, at["debit"]), currency, comma)
        credit = _side(cell(cells, at["credit"]), currency, comma)
        if debit and credit:
            raise AmountError("both debit and credit are filled in")
        amount = -abs(debit) if debit else abs(credit)
    if amount == 0:
        raise AmountError("the amount is zero")
    return amount


def _side(value, currency, comma):
    """A debit or credit cell: empty and "0,00" both mean the side is not used."""
    return amounts.parse(value, currency, comma) if value else 0
