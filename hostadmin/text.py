"""Text from outside (Plaid, CSV files, forms, query strings) made safe to store, in one place."""
import re

# NUL and the other C0/C1 control characters, except tab and newline (which a note or a
# multi-line description may carry). PostgreSQL refuses NUL in text; the rest only hides text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
ELLIPSIS = "…"


def clean_text(value, max_length=None):
    """Return `value` without NUL/control characters (CR LF and lone CR become LF), or None for None.

    With `max_length`, longer text is shortened to fit, ending in an ellipsis.
    """
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    # Lone surrogates (from a bad decoder) cannot be encoded as UTF-8 by any database driver.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return shorten(text, max_length) if max_length is not None else text


def clean_line(value, max_length=None):
    """Like clean_text for one-line fields (names, descriptions): newlines and tabs become spaces."""
    text = clean_text(value)
    if text is None:
        return None
    text = text.replace("\t", " ").replace("\n", " ")
    return shorten(text, max_length) if max_length is not None else text


def shorten(text, max_length):
    """`text` cut to at most `max_length` characters, the last one an ellipsis when anything was cut."""
    if text is None or len(text) <= max_length:
        return text
    return text[: max_length - 1] + ELLIPSIS

