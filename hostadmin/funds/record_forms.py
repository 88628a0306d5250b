"""Forms of the contributions and expenses pages; amounts use the currency's CLDR decimals (forms.minor_units)."""
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

CLEARED_HINT = ("The day the money reached the host's bank account. It may be in the past, not in the future, "
                "and not in a closed month.")
LEFT_HINT = ("The day the money left the host's bank account. It may be in the past, not in the future, "
             "and not in a closed month.")


class ExpectedContributionForm(FlaskForm):
    collective = SelectField("Collective", coerce=int, validators=[DataRequired(message="Choose a collective.")])
    contributor = StringField("Contributor", validators=[Optional(), Length(max=200)],
                              description="Type to search; a new name creates a contributor. Blank: Anonymous.")
    amount = StringField("Amount", validators=[DataRequired(message="Give the amount.")])
    description = StringField("Description", validators=[Optional(), Length(max=500)])


class ReceiveForm(FlaskForm):
    cleared_on = DateField("Date the money cleared", validators=[DataRequired(message="Give a date (YYYY-MM-DD).")],
                           description=CLEARED_HINT)


class ExpenseForm(FlaskForm):
    collective = SelectField("Collective", coerce=int, validators=[DataRequired(message="Choose a collective.")])
    payee = StringField("Payee", validators=[DataRequired(message="Name the payee."), Length(max=200)],
                        description="Type to search; a new name creates a payee.")
    amount = StringField("Amount", validators=[DataRequired(message="Give the amount.")])
    description = StringField("Description", validators=[DataRequired(message="Describe the expense."),
                                                        Length(max=500)])
    incurred_on = DateField("Date incurred", validators=[Optional()],
                            description="When the cost arose (the invoice or receipt date); not in the future.")


class PayForm(FlaskForm):
    cleared_on = DateField("Date the money left the account",
                           validators=[DataRequired(message="Give a date (YYYY-MM-DD).")], description=LEFT_HINT)


class RejectForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired(message="Say why the expense is rejected."),
                                                 Length(max=2000)])
