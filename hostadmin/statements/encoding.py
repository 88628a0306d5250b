"""The text of an uploaded statement: byte order marks first, then UTF-8, then charset-normalizer."""
import codecs

from charset_normalizer import from_bytes

_BOMS = [(codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]
# What banks export; charset-normalizer picks among these (and UTF-16 without a mark).
CANDIDATES = ["utf_8", "cp1252", "cp1250", "cp1251", "latin_1", "utf_16_le", "utf_16_be", "cp852", "koi8_r",
              "iso8859_2"]


class EncodingError(ValueError):
    """Bytes that are not text in any encoding a bank uses (or not in the one asked for)."""


def detect(data):
    """The encoding name of statement bytes (a byte order mark wins; then strict UTF-8; then the detector)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    try:
        data.decode("utf-8")
        if b"\x00" not in data:
            return "utf-8"
    except UnicodeDecodeError:
        pass
    results = list(from_bytes(data[:200_000], cp_isolation=CANDIDATES))
    # Least chaos, then the text most like a language, then the order above (Western European before
    # Central European on a tie: French "è" is "č" in cp1250, and the two often score alike on short files).
    best = min(results, key=lambda r: (round(r.chaos, 2), -round(r.coherence, 2),
                                       CANDIDATES.index(r.encoding) if r.encoding in CANDIDATES else 99),
               default=None)
    if best is None:
        raise EncodingError("This is not a text file. Export the statement as CSV (or OFX, QIF, CAMT.053, "
                            "MT940) and upload that.")
    return best.encoding


def decode(data, encoding=None):
    """(text, encoding) of statement bytes, in the given encoding or the detected one."""
    name = encoding or detect(data)
    try:
        codecs.lookup(name)
    except LookupError:
        raise EncodingError(f"“{name[:40]}” is not an encoding.") from None
    try:
        text = data.decode(name)
    except UnicodeDecodeError as error:
        raise EncodingError(f"The file is not {name} (byte {error.start + 1:,} cannot be read).") from None
    sample = text[:10_000]
    printable = sum(1 for c in sample if c.isprintable() or c in "\n\r\t")
    if "\x00" in text or (b"\x00" in data[:10_000] and not name.lower().replace("-", "_").startswith(("utf_16", "utf_32"))) \
            or printable < 0.95 * len(sample):
        raise EncodingError("This is not a text file. Export the statement as CSV (or OFX, QIF, CAMT.053, "
                            "MT940) and upload that.")
    return text.lstrip("\ufeff"), name
