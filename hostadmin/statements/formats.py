"""Which kind of statement a file is, from its first bytes."""
import re

_MT940 = re.compile(rb"^:(20|25|28C?|60[FM]|61):", re.MULTILINE)


def sniff(data):
    """"ofx", "camt053", "mt940", "qif" or "csv" (anything else is read as CSV)."""
    head = data[:8192].lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = head.lower()
    if lowered.startswith(b"ofxheader") or b"<ofx>" in lowered:
        return "ofx"
    if b"<bktocstmrstmt" in lowered or b"camt.053" in lowered:
        return "camt053"
    if lowered.startswith((b"!type:", b"!account", b"!option")):
        return "qif"
    if len(_MT940.findall(head)) >= 2 or head.startswith(b"{1:"):
        return "mt940"
    return "csv"
