"""The mapping fields of the upload page, read into a mapping (the keys of MAPPING.json)."""
from hostadmin.text import clean_line

DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
DELIMITER_NAMES = {value: name for name, value in DELIMITERS.items()}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1250", "cp1251", "cp1252", "latin-1", "iso8859-2", "cp852",
             "koi8-r"]


def field(form, key, limit=200):
    return clean_line(form.get(key) or "").strip()[:limit]


def mapping_from_form(form):
    """A mapping from the page's fields; blank fields are left to detection (the column fields are kept)."""
    mapping = {key: field(form, key) for key in ("date", "date_format", "amount", "debit", "credit", "currency",
                                                   "reference")}
    mapping["fixed_currency"] = field(form, "fixed_currency", 3).upper()
    if field(form, "encoding") in ENCODINGS:
        mapping["encoding"] = field(form, "encoding")
    if field(form, "delimiter") in DELIMITERS:
        mapping["delimiter"] = DELIMITERS[field(form, "delimiter")]
    header = field(form, "header_line", 6)
    if header == "none":
        mapping["header_line"] = None
    elif header.isascii() and header.isdigit() and 0 < int(header) < 100_000:
        mapping["header_line"] = int(header)
    described = [clean_line(value or "").strip()[:200] for value in form.getlist("description")]
    described = [column for column in described if column][:3]
    mapping["description"] = described[0] if len(described) == 1 else described
    mapping["negate"] = bool(form.get("negate"))
    mapping["decimal_comma"] = bool(form.get("decimal_comma"))
    direction = field(form, "direction_column")
    values = [value.strip() for value in field(form, "direction_in", 500).split(",") if value.strip()]
    mapping["direction"] = {"column": direction, "in": values[:20]} if direction else None
    mapping["skip"] = []
    for line in (form.get("skip") or "").splitlines()[:50]:
        column, _, values = clean_line(line).partition("=")
        equals = [value.strip() for value in values.split("|") if value.strip()][:50]
        if column.strip() and equals:
            mapping["skip"].append({"column": column.strip()[:200], "equals": [v[:200] for v in equals]})
    return mapping


def skip_text(rules):
    """Skip rules as the page's text: one `column = value | value` a line."""
    return "\n".join(f"{rule['column']} = {' | '.join(rule['equals'])}" for rule in rules or [])
