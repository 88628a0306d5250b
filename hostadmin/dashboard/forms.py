"""Dashboard forms."""
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from hostadmin.text import clean_line


class CollectiveForm(FlaskForm):
    name = StringField("Collective name", filters=[clean_line], validators=[
        DataRequired(message="Give the collective a name."), Length(max=200)])


class SettingsForm(FlaskForm):
    timezone = SelectField("Time zone", validate_choice=False, description=(
        "Months, date filters and report periods are in this zone: a deposit that cleared at 23:00 on "
        "31 October in New York belongs to October there."))
