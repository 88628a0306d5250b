"""Forms of the money pages; amounts are parsed with the currency's CLDR decimals."""
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from hostadmin import money
from hostadmin.money import PLAIN_DECIMAL, AmountError


class FormError(ValueError):
    """Input a form field cannot accept; `field` names it."""

    def __init__(self, message, field):
        super().__init__(message)
        self.field = field


class AddFundsForm(FlaskForm):
    collective = SelectField("Collective", coerce=int, validators=[DataRequired(message="Choose a collective.")])
    contributor = StringField("Source (contributor)", validators=[Optional(), Length(max=200)],
                              description="Who the money comes from; a new name creates a contributor.")
    amount = StringField("Amount", validators=[DataRequired(message="Give the amount.")])
    description = StringField("Description", validators=[DataRequired(message="Describe the funds."),
                                                        Length(max=500)])
    host_fee_percent = StringField("Host fee (%)", validators=[Optional()])
    processor_fee = StringField("Payment processor fee", validators=[Optional()],
                                description="What a payment processor kept, if any.")
    cleared_on = DateField("Date the funds cleared", validators=[DataRequired(message="Give a date (YYYY-MM-DD).")],
                           description="The day the money reached the host's bank account. It may be in the past, "
                                       "not in the future, and not in a closed month.")


def minor_units(text, currency, field):
    """"100.00" -> 10000 for `currency` (money.parse_amount, CLDR decimals); FormError naming `field` otherwise."""
    try:
        return money.parse_amount(text, currency)
    except AmountError as error:
        message = str(error)
        if message.startswith("“") and " has " in message:  # “12.345” has too many decimals: … -> The amount has …
            message = "The amount " + message.split("” ", 1)[1]
        raise FormError(message if message.endswith(".") or message.startswith("“") else message + ".",
                        field) from None


def percent_to_bps(text, field):
    """"8.5" -> 850; FormError otherwise."""
    text = (text or "").strip()
    if not PLAIN_DECIMAL.fullmatch(text):
        raise FormError("Give the fee as a percentage, e.g. 8.", field)
    bps = Decimal(text) * 100
    if not bps.is_finite() or bps != bps.to_integral_value() or not 0 <= bps <= 10000:
        raise FormError("The host fee is between 0 and 100 % with at most two decimals.", field)
    return int(bps)


def bps_to_percent(bps):
    """850 -> "8.5"; 800 -> "8"."""
    text = f"{Decimal(bps).scaleb(-2):.2f}"
    return text.rstrip("0").rstrip(".")


class EditFundsForm(AddFundsForm):
    """Add funds' fields, the reason (required) and the version of the contribution the page showed."""

    reason = StringField("Reason for the correction", validators=[DataRequired(message="Say why the funds are corrected."),
                                                                 Length(max=2000)],
                         description="Kept with the correction in the ledger and the audit log.")
    version = HiddenField()


class RenameCollectiveForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Give the collective a name."), Length(max=200)],
                       description="Unique on this host, whatever the case.")
    version = HiddenField()


class ArchiveCollectiveForm(FlaskForm):
    """Archive or unarchive: only the version the page showed."""

    version = HiddenField()
