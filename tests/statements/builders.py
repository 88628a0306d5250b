"""Statements in each standard format, written for these tests (entries are (fitid/ref, date, amount, text))."""


def ofx_sgml(entries, currency="USD"):
    """An OFX 1.02 (SGML, no closing tags on leaves) bank statement, as US banks export it."""
    body = "".join(f"""<STMTTRN>
<TRNTYPE>{'CREDIT' if amount[0] != '-' else 'DEBIT'}
<DTPOSTED>{day.replace('-', '')}120000[-5:EST]
<TRNAMT>{amount}
<FITID>{ref}
<NAME>{text}
<MEMO>memo {ref}
</STMTTRN>
""" for ref, day, amount, text in entries)
    return f"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20261130120000<LANGUAGE>ENG</SONRS>
</SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>{currency}
<BANKACCTFROM><BANKID>121000248<ACCTID>0001234567<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20261101<DTEND>20261130
{body}</BANKTRANLIST>
<LEDGERBAL><BALAMT>100.00<DTASOF>20261130</LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1>
</OFX>
""".encode("ascii")


def ofx_xml(entries, currency="EUR"):
    """An OFX 2.2 (XML) credit card statement, as a QFX export looks."""
    body = "".join(f"<STMTTRN><TRNTYPE>{'CREDIT' if amount[0] != '-' else 'DEBIT'}</TRNTYPE>"
                   f"<DTPOSTED>{day.replace('-', '')}</DTPOSTED><TRNAMT>{amount}</TRNAMT><FITID>{ref}</FITID>"
                   f"<NAME>{text}</NAME></STMTTRN>\n" for ref, day, amount, text in entries)
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<DTSERVER>20261130</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS></SIGNONMSGSRSV1>
<CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<CCSTMTRS><CURDEF>{currency}</CURDEF><CCACCTFROM><ACCTID>4111111111111111</ACCTID></CCACCTFROM>
<BANKTRANLIST><DTSTART>20261101</DTSTART><DTEND>20261130</DTEND>
{body}</BANKTRANLIST><LEDGERBAL><BALAMT>-10.00</BALAMT><DTASOF>20261130</DTASOF></LEDGERBAL>
</CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>
""".encode()


def camt053(entries, currency="EUR", pending=()):
    """A CAMT.053.001.02 statement; refs become AcctSvcrRef (or NtryRef when they start with "N:")."""
    def entry(ref, day, amount, text, status="BOOK"):
        reference = f"<NtryRef>{ref[2:]}</NtryRef>" if ref.startswith("N:") else \
            f"<AcctSvcrRef>{ref}</AcctSvcrRef>" if ref else ""
        side = "Dbtr" if amount[0] != "-" else "Cdtr"
        return f"""<Ntry>{reference}<Amt Ccy="{currency}">{amount.lstrip('-')}</Amt>
<CdtDbtInd>{'CRDT' if amount[0] != '-' else 'DBIT'}</CdtDbtInd><Sts>{status}</Sts>
<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>
<NtryDtls><TxDtls><RltdPties><{side}><Nm>{text}</Nm></{side}></RltdPties>
<RmtInf><Ustrd>Invoice {ref}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
"""
    body = "".join(entry(*e) for e in entries) + "".join(entry(*e, status="PDNG") for e in pending)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>STMT-1</MsgId><CreDtTm>2026-11-30T18:00:00</CreDtTm></GrpHdr>
<Stmt><Id>1</Id><CreDtTm>2026-11-30T18:00:00</CreDtTm>
<Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>{currency}</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2026-11-01</Dt></Dt></Bal>
{body}</Stmt></BkToCstmrStmt></Document>
""".encode()


def mt940(entries, currency="EUR"):
    """An MT940 statement; amounts like "12.50" or "-3.00" become C/D lines with a comma decimal."""
    def line(ref, day, amount, text):
        yymmdd = day[2:].replace("-", "")
        mark, value = ("D", amount[1:]) if amount[0] == "-" else ("C", amount)
        return f":61:{yymmdd}{yymmdd[2:]}{mark}{value.replace('.', ',')}NTRF{ref}//B{ref}\n:86:{text}\n"
    body = "".join(line(*e) for e in entries)
    return f""":20:STMT20261130
:25:NL91ABNA0417164300
:28C:00042/001
:60F:C261101{currency}100,00
{body}:62F:C261130{currency}100,00
""".encode()


def qif(entries):
    """A QIF bank account export (US dates with an apostrophe year, as Quicken writes them)."""
    def record(ref, day, amount, text):
        y, m, d = day.split("-")
        return f"D{m}/{d}'{y[2:]}\nT{amount}\nP{text}\nMmemo {ref}\n^\n"
    return ("!Type:Bank\n" + "".join(record(*e) for e in entries)).encode()
